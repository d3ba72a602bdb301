/// The names and shapes of a model's tensors (documented in models/README.md).
///
/// Weights are `[out, in]` (row-major, y = W x + b); biases `[out]`.
public struct ParameterLayout: Sendable, Equatable {
    /// Every tensor, in the canonical order used when writing files.
    public let entries: [(name: String, shape: [Int])]

    public static func == (a: ParameterLayout, b: ParameterLayout) -> Bool {
        a.entries.map(\.name) == b.entries.map(\.name) && a.entries.map(\.shape) == b.entries.map(\.shape)
    }

    public init(configuration c: ModelConfiguration, itemCount: Int, userCount: Int) {
        let d = c.embeddingDimension
        var entries: [(String, [Int])] = [
            (Self.itemEmbedding, [itemCount, d]),
            (Self.itemBias, [itemCount]),
            (Self.userEmbedding, [userCount, d]),
        ]
        func mlp(_ prefix: String, input: Int, sizes: [Int]) {
            var width = input
            for (l, size) in sizes.enumerated() {
                entries.append(("\(prefix).layers.\(l).weight", [size, width]))
                entries.append(("\(prefix).layers.\(l).bias", [size]))
                width = size
            }
        }
        let input = c.encoderInputDimension
        switch c.architecture {
        case .mlp:
            mlp(Self.encoderPrefix, input: input, sizes: c.hiddenDimensions)
        case .mmoe(let experts):
            for e in 0..<experts {
                mlp(Self.expertPrefix(e), input: input, sizes: c.hiddenDimensions)
            }
            for task in c.tasks {
                let prefix = Self.gatePrefix(task, domains: c.domains)
                entries.append(("\(prefix).weight", [experts, input]))
                entries.append(("\(prefix).bias", [experts]))
            }
        case .ple(let shared, let own, let levels):
            for l in 0..<levels {
                let width = l == 0 ? input : c.representationDimension
                for e in 0..<shared { mlp(Self.pleSharedExpertPrefix(level: l, expert: e), input: width, sizes: c.hiddenDimensions) }
                for task in c.tasks {
                    for e in 0..<own {
                        mlp(Self.pleTaskExpertPrefix(level: l, task: task, expert: e, domains: c.domains), input: width,
                            sizes: c.hiddenDimensions)
                    }
                }
                for task in c.tasks {
                    let prefix = Self.pleTaskGatePrefix(level: l, task: task, domains: c.domains)
                    entries.append(("\(prefix).weight", [own + shared, width]))
                    entries.append(("\(prefix).bias", [own + shared]))
                }
                if l < levels - 1 {
                    let all = c.tasks.count * own + shared
                    entries.append(("\(Self.pleSharedGatePrefix(level: l)).weight", [all, width]))
                    entries.append(("\(Self.pleSharedGatePrefix(level: l)).bias", [all]))
                }
            }
        }
        for task in c.tasks {
            let output = task == .nextDomain ? c.domains.count : d
            mlp(Self.headPrefix(task, domains: c.domains), input: c.representationDimension,
                sizes: c.towerHiddenDimensions + [output])
        }
        if let shape = c.sessionEncoder {
            entries += SessionEncoder(shape: shape, dimension: d).layoutEntries
        }
        self.entries = entries
    }

    public static let itemEmbedding = "item.embedding"
    public static let itemBias = "item.bias"
    public static let userEmbedding = "user.embedding"
    public static let encoderPrefix = "encoder"

    public static func expertPrefix(_ expert: Int) -> String { "encoder.experts.\(expert)" }

    /// PLE: `encoder.levels.<l>.shared.<e>`, `encoder.levels.<l>.tasks.<task>.<e>`,
    /// `encoder.levels.<l>.gates.<task>` and `encoder.levels.<l>.gates.shared`.
    public static func pleSharedExpertPrefix(level: Int, expert: Int) -> String { "encoder.levels.\(level).shared.\(expert)" }

    public static func pleTaskExpertPrefix(level: Int, task: Task, expert: Int, domains: [String]) -> String {
        "encoder.levels.\(level).tasks.\(taskName(task, domains: domains)).\(expert)"
    }

    public static func pleTaskGatePrefix(level: Int, task: Task, domains: [String]) -> String {
        "encoder.levels.\(level).gates.\(taskName(task, domains: domains))"
    }

    public static func pleSharedGatePrefix(level: Int) -> String { "encoder.levels.\(level).gates.shared" }

    /// Tasks in names: `domain.<name>`, `session`, `next_domain`.
    public static func taskName(_ task: Task, domains: [String]) -> String {
        switch task {
        case .domain(let d): return "domain.\(domains[d])"
        case .session: return "session"
        case .nextDomain: return "next_domain"
        }
    }

    public static func gatePrefix(_ task: Task, domains: [String]) -> String {
        "encoder.gates.\(taskName(task, domains: domains))"
    }

    public static func headPrefix(_ task: Task, domains: [String]) -> String {
        "heads.\(taskName(task, domains: domains))"
    }
}
