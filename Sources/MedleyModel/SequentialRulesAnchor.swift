/// Which item the sequential rules start from (model-file metadata `session_rules_anchor`,
/// models/README.md, "Sequential rules").
public enum SequentialRulesAnchor: String, Sendable, Equatable, CaseIterable {
    /// The newest known item of the current session; nothing when the session has none. The
    /// meaning of a file without the key (written before the key existed).
    case session
    /// The user's newest known item: the current session's newest, or, when the session has
    /// none (a request that opens a session after a gap), the newest of the history. What
    /// follows a user's last item does not stop at a 30-minute gap.
    case newestItem = "newest_item"

    /// The row the rules start from for `input`, or nil when there is none.
    public func row(for input: EncodedInput) -> Int? {
        switch self {
        case .session: return input.sessionRows.last
        case .newestItem: return input.sessionRows.last ?? input.newestHistoryRow
        }
    }
}
