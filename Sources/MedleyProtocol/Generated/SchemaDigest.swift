// DO NOT EDIT.
// Written by scripts/generate-protocol.sh from protocol/medley.proto.

/// Identifies the schema that the generated code in this folder came from.
public enum MedleyProtocolSchema {
    /// SHA-256 of protocol/medley.proto, lower-case hex. A test hashes the file
    /// and compares, so an edit to the schema without regenerating fails it.
    public static let sourceSHA256 = "0c3b46009a33a17270c24648ee9c10c108b9fddc4ce5f9784c5adb886ba88aa9"
}
