/// Which items the session attention reads (model-file metadata `attention_input`,
/// models/README.md, "Input encoding", step 7).
public enum AttentionSequence: String, Sendable, Equatable, CaseIterable {
    /// The newest known items of the current session only. The meaning of a file without the
    /// key (written before the key existed).
    case session
    /// The newest known items of the user, across sessions: the request's history items
    /// (oldest first) followed by the session's events. A user's order does not stop at a
    /// 30-minute gap, and a session's first event still has the user's earlier items to read.
    case history

    /// The rows the encoder reads: the last `length` of `historyRows` then `sessionRows` (or of
    /// `sessionRows` alone), oldest first.
    public func rows(historyRows: [Int], sessionRows: [Int], length: Int) -> [Int] {
        switch self {
        case .session:
            return Array(sessionRows.suffix(length))
        case .history:
            let fromSession = sessionRows.suffix(length)
            return Array(historyRows.suffix(length - fromSession.count)) + fromSession
        }
    }
}
