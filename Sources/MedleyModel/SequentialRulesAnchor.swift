/// Which items the sequential rules start from (model-file metadata `session_rules_anchor`,
/// models/README.md, "Sequential rules").
public enum SequentialRulesAnchor: String, Sendable, Equatable, CaseIterable {
    /// The newest known items of the current session; nothing when the session has none. The
    /// meaning of a file without the key (written before the key existed).
    case session
    /// The user's newest known items: the current session's, newest first, then, once they are
    /// used up (as in a request that opens a session after a gap), the history's. What follows
    /// a user's last items does not stop at a 30-minute gap.
    case newestItem = "newest_item"

    /// The `depth` rows the rules start from for `input`, newest first (fewer when it has fewer).
    public func rows(for input: EncodedInput, depth: Int) -> [Int] {
        var rows = Array(input.sessionRows.suffix(depth).reversed())
        if self == .newestItem && rows.count < depth {
            rows += input.recentHistoryRows.prefix(depth - rows.count)
        }
        return rows
    }
}
