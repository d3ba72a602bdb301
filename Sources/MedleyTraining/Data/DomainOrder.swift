/// The order in which domains are listed everywhere in the training module: Medley's three
/// domains first, as the model lists them, then any others alphabetically. One order keeps
/// domain indices, report rows and model files in agreement.
public enum DomainOrder {
    /// Medley's standard domains, in model order.
    public static let standard = ["news", "video", "music"]

    /// Domain names in the canonical order.
    public static func sorted(_ domains: some Sequence<String>) -> [String] {
        let set = Set(domains)
        return standard.filter(set.contains) + set.subtracting(standard).sorted()
    }
}
