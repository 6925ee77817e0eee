namespace Coordination.Client.Profiles;

/// <summary>A profile could not be created, opened or saved; the message says why and never holds key material.</summary>
public class ProfileException : Exception
{
    public ProfileException()
    {
    }

    public ProfileException(string message)
        : base(message)
    {
    }

    public ProfileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The profile is encrypted and no passphrase was given.</summary>
public sealed class ProfilePassphraseRequiredException : ProfileException
{
    public ProfilePassphraseRequiredException()
        : base("The profile is encrypted; a passphrase is needed to open it.")
    {
    }

    public ProfilePassphraseRequiredException(string message)
        : base(message)
    {
    }

    public ProfilePassphraseRequiredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
