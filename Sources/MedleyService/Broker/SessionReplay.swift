import MedleyModel

/// Which replayed records go to which worker after a pool change, and which users each
/// worker must forget: the work of one replay, without sockets.
///
/// A joining worker takes users from every worker there before. Those workers may have
/// dropped some of their own users to make room for the ones now leaving (a store is capped:
/// the first worker to join was sent every user), so after FORGET they are sent their own
/// users' events again. A worker skips records it already holds (by sequence) but counts them
/// as activity, so each ends with its own newest users.
struct SessionReplay {
    let change: Rebalancer.PoolChange
    /// Records sent in one EVENTS message at most.
    var batchSize = 512

    /// Reads the records `open` gives (twice when workers are refilled: first for the users
    /// to forget) and hands each message to `send` in the order it must reach the workers. A
    /// source that fails ends the reading; what was read is still sent. Throws only what
    /// `send` throws, and ``ReplayCancelled`` once `isCancelled` says so.
    func run(
        open: () throws -> any SessionReplaySource, isCancelled: () -> Bool, send: ([UInt8], WorkerMessage) throws -> Void
    ) throws -> ReplayOutcome {
        let (before, after, reset) = (change.before, change.after, change.reset)
        let joined = after.contains { !before.contains($0) }
        let refilled = Set(joined ? before.filter(after.contains) : [])
        var outgoing: [[UInt8]: EventRecordPack] = [:]
        var forgotten: [[UInt8]: Set<OpaqueID>] = [:]
        var ownerCache: [OpaqueID: (old: [UInt8]?, new: [UInt8])] = [:]
        var replayed: UInt64 = 0
        func owners(of userID: String) -> (old: [UInt8]?, new: [UInt8]) {
            let user = OpaqueID(userID)
            if let cached = ownerCache[user] { return cached }
            let owners = (WorkerRegistry.owner(of: userID, among: before), WorkerRegistry.owner(of: userID, among: after)!)
            ownerCache[user] = owners
            return owners
        }
        func sendForgets() throws {
            for (worker, users) in forgotten {
                try send(worker, .forget(userIDs: users.map { String(decoding: $0.bytes, as: UTF8.self) }))
            }
            forgotten = [:]
        }
        var failure: String?
        do {
            for pass in refilled.isEmpty ? [2] : [1, 2] {
                var source = try open()
                while let (userID, record) = try source.next() {
                    if isCancelled() { throw ReplayCancelled() }
                    let owners = owners(of: userID)
                    if pass == 1 || refilled.isEmpty, let old = owners.old, old != owners.new, after.contains(old) {
                        forgotten[old, default: []].insert(OpaqueID(userID))
                    }
                    guard pass == 2, owners.old != owners.new || owners.new == reset || refilled.contains(owners.new) else { continue }
                    outgoing[owners.new, default: EventRecordPack()].append(record)
                    replayed += 1
                    if outgoing[owners.new]!.count >= batchSize {
                        try send(owners.new, .events(outgoing[owners.new]!))
                        outgoing[owners.new] = EventRecordPack()
                    }
                }
                // Old owners forget moved users before their own users are sent again.
                if pass == 1 { try sendForgets() }
            }
        } catch is ReplayCancelled {
            throw ReplayCancelled()
        } catch {
            failure = "\(error)"
        }
        try sendForgets()
        for (worker, pack) in outgoing where !pack.isEmpty {
            try send(worker, .events(pack))
        }
        return failure.map { .failed($0) } ?? .finished(events: replayed, users: UInt64(ownerCache.count))
    }
}
