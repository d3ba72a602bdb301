// DO NOT EDIT.
// Written by scripts/generate-protocol.sh from protocol/medley.proto.

/// Identifies the schema that the generated code in this folder came from.
public enum MedleyProtocolSchema {
    /// SHA-256 of protocol/medley.proto, lower-case hex. A test hashes the file
    /// and compares, so an edit to the schema without regenerating fails it.
    public static let sourceSHA256 = "326601786448995d48be42f6b93636795df47256beaa1bfe644a99b0d9b9377b"
}
