import MedleyModel

/// The hash of user ids that places users: on workers (``WorkerRegistry``'s rendezvous scores)
/// and in the broker's ordering buckets (``UserOrdering``). FNV-1a over the bytes, then a
/// SplitMix64 finaliser to spread FNV's weak low bits; stable across processes, unlike `Hasher`.
enum StableUserHash {
    static let seed: UInt64 = 0xcbf2_9ce4_8422_2325

    /// FNV-1a over `bytes`, continuing from `hash`.
    static func mix(_ bytes: some Sequence<UInt8>, into hash: UInt64 = seed) -> UInt64 {
        var hash = hash
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// FNV-1a over a user id's UTF-8 bytes, read in place (the view's iterator checks each
    /// step). Ids that are the same only under Unicode equivalence are different users, and
    /// hash as such.
    static func mix(_ userID: String, into hash: UInt64 = seed) -> UInt64 {
        userID.withUTF8Bytes { mix($0, into: hash) }
    }

    static func finalized(_ hash: UInt64) -> UInt64 {
        var z = hash &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
