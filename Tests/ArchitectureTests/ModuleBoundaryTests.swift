import Foundation
import Testing

/// Each module's README says what the module may import; these tests hold the code to it, so
/// the module graph the README draws cannot drift from the one the code has.
@Suite("module boundaries")
struct ModuleBoundaryTests {
    /// The platform's own modules, which every module may use.
    static let platform: Set = ["Foundation", "FoundationEssentials", "Dispatch", "Synchronization", "Glibc", "Musl", "Darwin"]

    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// Module folders holding Swift code (the C system-library folders hold only a module map).
    static func swiftModules() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted().filter { name in
            FileManager.default.enumerator(atPath: sources.appendingPathComponent(name).path)?
                .contains { ($0 as? String)?.hasSuffix(".swift") == true } == true
        }
    }

    /// The names after "May import:" up to the first full stop; nil when the README has no
    /// such line, and an empty set for "every module".
    static func allowedImports(of module: String) throws -> Set<String>? {
        let readme = try String(contentsOf: sources.appendingPathComponent("\(module)/README.md"), encoding: .utf8)
        guard let start = readme.range(of: "May import: ") else { return nil }
        let rest = readme[start.upperBound...]
        let list = rest.prefix { $0 != "." }.replacingOccurrences(of: "\n", with: " ")
        return Set(list.split(separator: ",").map {
            // "SystemPackage (swift-system)" names the module SystemPackage.
            String($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        })
    }

    /// Every module imported by the module's Swift files.
    static func imports(of module: String) throws -> Set<String> {
        var found: Set<String> = []
        let folder = sources.appendingPathComponent(module)
        for case let path as String in FileManager.default.enumerator(atPath: folder.path)! where path.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if let index = words.firstIndex(of: "import"), index + 1 < words.count,
                   words[..<index].allSatisfy({ $0.hasPrefix("@") || $0 == "public" || $0 == "package" || $0 == "internal" }) {
                    found.insert(String(words[index + 1]))
                }
            }
        }
        return found
    }

    @Test func everyModuleSaysWhatItMayImport() throws {
        for module in try Self.swiftModules() {
            #expect(try Self.allowedImports(of: module) != nil, "Sources/\(module)/README.md has no \"May import:\" line")
        }
    }

    @Test func everyModuleImportsOnlyWhatItsReadmeAllows() throws {
        for module in try Self.swiftModules() {
            guard let allowed = try Self.allowedImports(of: module), !allowed.contains("every") else { continue }
            let outside = try Self.imports(of: module).subtracting(allowed).subtracting(Self.platform)
            #expect(outside.isEmpty, "Sources/\(module) imports \(outside.sorted()), which its README does not allow")
        }
    }

    @Test func theReadmeParserReadsTheListAndStopsAtTheFullStop() throws {
        let allowed = try #require(try Self.allowedImports(of: "MedleySystem"))
        #expect(allowed == ["Logging", "SystemPackage"])
        #expect(try Self.imports(of: "MedleyTraining").contains("MedleyModel"))
    }
}
