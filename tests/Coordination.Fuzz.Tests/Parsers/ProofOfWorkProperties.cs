using System.Buffers.Binary;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol.Receipts;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// The submission proof-of-work check, for any nonce, counter and difficulty (a client gets the
/// nonce and difficulty from the relay): it agrees with a count of leading zero bits made here, a
/// solution found for a difficulty solves every lower one, and nothing throws.
/// </summary>
public sealed class ProofOfWorkProperties
{
    [Fact]
    public void IsSolved_AnyNonceCounterAndDifficulty_AgreesWithLeadingZeroBits()
    {
        Gen<(Bytes Nonce, ulong Counter, int Difficulty)> cases =
            from nonce in Gen.Frequency((4, Gens.Bytes(0, ProofOfWork.MaxNonceBytes)), (1, Gens.Bytes(ProofOfWork.MaxNonceBytes + 1, 4096)))
            from counter in Gen.Frequency(
                (1, Gen.Elements(0UL, 1UL, ulong.MaxValue, 1UL << 63)),
                (4, Gens.Seeds.SelectMany(high => Gens.Seeds.Select(low => ((ulong)(uint)high << 32) | (uint)low))))
            from difficulty in Gen.Frequency(
                (6, Gen.Choose(0, 24)),
                (1, Gen.Elements(int.MinValue, -1, 255, 256, 257, 1000, int.MaxValue)))
            select (nonce, counter, difficulty);
        Fuzzer.Check(3000, Fuzzer.Cases(cases), c =>
        {
            if (c.Nonce.Length > ProofOfWork.MaxNonceBytes)
            {
                Assert.Throws<ArgumentException>(() => ProofOfWork.IsSolved(c.Nonce.Value, c.Counter, c.Difficulty));
                return;
            }

            byte[] input = [.. c.Nonce.Value, .. new byte[8]];
            BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(c.Nonce.Length), c.Counter);
            int zeros = LeadingZeroBits(Blake2b.Hash(input, 32));
            Assert.Equal(zeros >= c.Difficulty, ProofOfWork.IsSolved(c.Nonce.Value, c.Counter, c.Difficulty));
        });
    }

    [Fact]
    public void Solve_AnyNonce_SolvesItsDifficultyAndEveryLowerOne()
    {
        Gen<(Bytes Nonce, int Difficulty)> cases = Gen.Zip(Gens.Bytes(0, 64), Gen.Choose(0, 10));
        Fuzzer.Check(300, Fuzzer.Cases(cases), c =>
        {
            ulong counter = ProofOfWork.Solve(c.Nonce.Value, c.Difficulty);
            for (int difficulty = c.Difficulty; difficulty >= -1; difficulty--)
            {
                Assert.True(ProofOfWork.IsSolved(c.Nonce.Value, counter, difficulty));
            }

            for (ulong smaller = 0; smaller < counter && smaller < 64; smaller++)
            {
                Assert.False(ProofOfWork.IsSolved(c.Nonce.Value, smaller, c.Difficulty));
            }
        });
    }

    /// <summary>
    /// A relay sets the nonce of a challenge; the client solves it in <see cref="ProofOfWork.Solve"/>.
    /// A nonce of several megabytes (base64 in one JSON field) must be refused or handled, not crash
    /// the client (a stack overflow would end the process): <see cref="ProofOfWork.IsSolved"/> refuses
    /// a nonce longer than <see cref="ProofOfWork.MaxNonceBytes"/>.
    /// </summary>
    [Fact]
    public async Task IsSolved_NonceOfNineMegabytes_DoesNotCrash()
    {
        Exception? thrown = await Record.ExceptionAsync(() => Task.Run(() => ProofOfWork.IsSolved(new byte[9_000_000], 0, 1)));
        Assert.True(thrown is null or ArgumentException, $"{thrown}");
    }

    private static int LeadingZeroBits(byte[] hash)
    {
        int bits = 0;
        foreach (byte b in hash)
        {
            for (int bit = 7; bit >= 0; bit--)
            {
                if ((b & (1 << bit)) != 0)
                {
                    return bits;
                }

                bits++;
            }
        }

        return bits;
    }
}
