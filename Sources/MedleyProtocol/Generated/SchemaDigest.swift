// DO NOT EDIT.
// Written by scripts/generate-protocol.sh from protocol/medley.proto.

/// Identifies the schema that the generated code in this folder came from.
public enum MedleyProtocolSchema {
    /// SHA-256 of protocol/medley.proto, lower-case hex. A test hashes the file
    /// and compares, so an edit to the schema without regenerating fails it.
    public static let sourceSHA256 = "d9bb2d7bb20af3f781ea287998b53f7d5c635d34dba972434b0e955b2d81ee59"
}
