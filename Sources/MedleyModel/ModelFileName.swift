/// How model files are named in a models directory: `<version>.safetensors`, the version in
/// decimal digits and nothing else, so that the trainer, the directory watcher and control
/// requests agree on which file is which version.
public enum ModelFileName {
    static let suffix = ".safetensors"

    /// The file name of a model version.
    public static func name(version: UInt64) -> String {
        "\(version)\(suffix)"
    }

    /// The path of a model version in `directory`.
    public static func path(version: UInt64, in directory: String) -> String {
        "\(directory)/\(name(version: version))"
    }

    /// The version a file name gives; nil for any other name (temporary files,
    /// `default.safetensors`, signs, numbers too large for 64 bits).
    public static func version(of name: String) -> UInt64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard !stem.isEmpty, stem.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return UInt64(stem)
    }
}
