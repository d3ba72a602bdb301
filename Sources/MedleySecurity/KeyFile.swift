import Foundation
import MedleySystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The key files' one-line text format. The label makes a secret key passed where a public
/// key belongs (or the reverse) fail with a clear message instead of an odd signature error.
package enum KeyFile {
    package static let secretLabel = "medley-ed25519-secret-key"
    package static let publicLabel = "medley-ed25519-public-key"
    package static let curveSecretLabel = "medley-curve-secret-key"
    package static let curvePublicLabel = "medley-curve-public-key"
    package static let signatureLabel = "medley-ed25519-signature"
    /// Every label, so that a file of another kind is named in the error.
    package static let knownLabels: Set = [secretLabel, publicLabel, curveSecretLabel, curvePublicLabel, signatureLabel]
    /// Key files are tiny; anything longer is not one.
    package static let maximumBytes = 4096

    package static func text(label: String, raw: [UInt8]) -> String {
        text(label: label, value: Data(raw).base64EncodedString())
    }

    package static func text(label: String, value: String) -> String {
        "\(label) \(value)\n"
    }

    package static func read(_ path: String, label: String) throws(KeyFileError) -> [UInt8] {
        guard let raw = Data(base64Encoded: try readValue(path, label: label)), raw.count == 32 else {
            throw .malformed(path: path, reason: "the key is not 32 bytes of base64")
        }
        return Array(raw)
    }

    /// The text after the label of a one-line `LABEL VALUE` file.
    package static func readValue(_ path: String, label: String) throws(KeyFileError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        guard data.count <= maximumBytes, let text = String(data: data, encoding: .utf8) else {
            throw .malformed(path: path, reason: "not a short text file")
        }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2 else { throw .malformed(path: path, reason: "expected one line \"\(label) BASE64\"") }
        guard fields[0] == label else {
            throw .malformed(path: path, reason: knownLabels.contains(String(fields[0]))
                ? "it holds a \(fields[0]), expected a \(label)" : "expected the label \(label)")
        }
        return String(fields[1])
    }

    /// Writes a new key file; never replaces one that exists.
    package static func create(_ path: String, text: String, mode: mode_t) throws(KeyFileError) {
        do {
            try AtomicFile.create(Array(text.utf8), at: path, mode: mode)
        } catch {
            throw .io(path: path, reason: "\(error.operation): \(error.errno)")
        }
    }
}
