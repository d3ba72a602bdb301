/// Cuts each user's interactions into sessions at gaps of inactivity.
///
/// A user's interactions are ordered by timestamp, ties broken by file order; a new session
/// starts where the time since the previous interaction is greater than the gap (a gap of
/// exactly the limit stays in the session).
public enum Sessionizer {
    /// The gap used unless configured otherwise: 30 minutes, as design.md states.
    public static let defaultGapSeconds: Int64 = 30 * 60

    /// One user's sessions, each in chronological order.
    public struct UserSessions: Sendable, Equatable {
        public var user: String
        public var sessions: [[Interaction]]
    }

    /// The sessions of every user, users in order of their first row in the file.
    public static func sessions(of interactions: [Interaction], gapSeconds: Int64 = defaultGapSeconds) -> [UserSessions] {
        var userIndex: [String: Int] = [:]
        var byUser: [[Interaction]] = []
        var users: [String] = []
        for interaction in interactions.sorted(by: { $0.order < $1.order }) {
            if let index = userIndex[interaction.user] {
                byUser[index].append(interaction)
            } else {
                userIndex[interaction.user] = byUser.count
                users.append(interaction.user)
                byUser.append([interaction])
            }
        }
        return zip(users, byUser).map { user, rows in
            let ordered = rows.sorted(by: Interaction.chronological)
            let ranges = cut(timestamps: ordered.map(\.timestamp), gap: gapSeconds)
            return UserSessions(user: user, sessions: ranges.map { Array(ordered[$0]) })
        }
    }

    /// The sessions of one chronologically ordered sequence, as index ranges: a new range
    /// starts wherever the step from the previous timestamp exceeds `gap` (same unit).
    public static func cut(timestamps: [Int64], gap: Int64) -> [Range<Int>] {
        guard !timestamps.isEmpty else { return [] }
        var ranges: [Range<Int>] = []
        var start = 0
        for i in 1..<timestamps.count where timestamps[i] - timestamps[i - 1] > gap {
            ranges.append(start..<i)
            start = i
        }
        ranges.append(start..<timestamps.count)
        return ranges
    }

    /// The session identifier Medley writes for a user's `n`-th session (1-based): `"<user>-<n>"`.
    public static func sessionID(user: String, number: Int) -> String {
        "\(user)-\(number)"
    }
}
