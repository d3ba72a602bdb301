// DO NOT EDIT.
// Written by scripts/generate-protocol.sh from protocol/medley.proto.

/// Identifies the schema that the generated code in this folder came from.
public enum MedleyProtocolSchema {
    /// SHA-256 of protocol/medley.proto, lower-case hex. A test hashes the file
    /// and compares, so an edit to the schema without regenerating fails it.
    public static let sourceSHA256 = "e9d6c2dffc40355439e3e7199022f82cac64898885afd70f8f5f4bc1508b7a82"
}
