using System.Runtime.InteropServices;

namespace Coordination.Crypto;

internal static partial class Interop
{
    /// <summary>
    /// Memory from <c>sodium_malloc</c>: guard pages around it, locked where the OS allows, and zeroed by
    /// <c>sodium_free</c> when the handle is released. Secret keys live only here.
    /// </summary>
    internal sealed class SecureMemoryHandle : SafeHandle
    {
        public SecureMemoryHandle()
            : base(invalidHandleValue: 0, ownsHandle: true)
        {
        }

        /// <summary>Size in bytes requested from <c>sodium_malloc</c>.</summary>
        internal int Length { get; private set; }

        public override bool IsInvalid => handle == 0;

        internal static SecureMemoryHandle Allocate(int length)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
            SecureMemoryHandle memory = Libsodium.sodium_malloc((nuint)length);
            if (memory.IsInvalid)
            {
                memory.Dispose();
                throw new InsufficientMemoryException("sodium_malloc could not allocate secure memory.");
            }

            memory.Length = length;
            return memory;
        }

        /// <summary>Copies <paramref name="source"/> (exactly <see cref="Length"/> bytes) into the secure memory.</summary>
        internal void CopyFrom(ReadOnlySpan<byte> source)
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                source.CopyTo(DangerousGetSpan());
            }
            finally
            {
                if (added)
                {
                    DangerousRelease();
                }
            }
        }

        /// <summary>Copies the secret out; the caller wipes the destination.</summary>
        internal void CopyTo(Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                DangerousGetSpan().CopyTo(destination);
            }
            finally
            {
                if (added)
                {
                    DangerousRelease();
                }
            }
        }

        private unsafe Span<byte> DangerousGetSpan() => new((void*)handle, Length);

        protected override bool ReleaseHandle()
        {
            Libsodium.sodium_free(handle);
            return true;
        }
    }
}
