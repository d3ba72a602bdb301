import Foundation
import MedleySystem

/// Everything a model file holds.
public struct ModelFileContents: Sendable, Equatable {
    public var configuration: ModelConfiguration
    public var catalog: ItemCatalog
    public var users: UserVocabulary
    public var parameters: ModelParameters
    /// Sequential rules blended into the session head's scores, if the model has them.
    public var sequentialRules: SequentialRulesTable?
    /// λ in [0, 1]: each domain list ranks its items by (1 − λ) × the domain head's score + λ ×
    /// the session head's blended score (``DomainListBlend``). 0: the domain head alone.
    public var domainListSessionShare: Float

    public init(configuration: ModelConfiguration, catalog: ItemCatalog, users: UserVocabulary, parameters: ModelParameters,
                sequentialRules: SequentialRulesTable? = nil, domainListSessionShare: Float = 0) {
        self.configuration = configuration
        self.catalog = catalog
        self.users = users
        self.parameters = parameters
        self.sequentialRules = sequentialRules
        self.domainListSessionShare = domainListSessionShare
    }

    /// A new, untrained model: parameters from ``ModelParameters/initialized(layout:seed:)``.
    /// Deterministic for a seed; the trainer's starting point.
    public static func initialized(configuration: ModelConfiguration, catalog: ItemCatalog, users: UserVocabulary,
                                   seed: UInt64) throws(ModelFileError) -> ModelFileContents {
        try configuration.validate()
        let layout = ParameterLayout(configuration: configuration, itemCount: catalog.count, userCount: users.count)
        return ModelFileContents(configuration: configuration, catalog: catalog, users: users,
                                 parameters: .initialized(layout: layout, seed: seed))
    }

    /// The tensor layout these contents must have.
    public var layout: ParameterLayout {
        ParameterLayout(configuration: configuration, itemCount: catalog.count, userCount: users.count)
    }
}

/// Medley's model file: safetensors with the tensors of ``ParameterLayout`` and the metadata
/// keys below, as specified in models/README.md.
public enum ModelFile {
    /// Metadata keys.
    public enum Key {
        public static let format = "format"
        public static let formatVersion = "format_version"
        public static let modelVersion = "model_version"
        public static let architecture = "architecture"
        public static let experts = "experts"
        public static let sharedExperts = "shared_experts"
        public static let taskExperts = "task_experts"
        public static let levels = "levels"
        public static let activation = "activation"
        public static let domains = "domains"
        public static let embeddingDim = "embedding_dim"
        public static let contextDim = "context_dim"
        public static let lastItemSlots = "last_item_slots"
        public static let hiddenDims = "hidden_dims"
        public static let towerHiddenDims = "tower_hidden_dims"
        public static let eventWeights = "event_weights"
        public static let recencyHalfLife = "recency_half_life_seconds"
        public static let itemIDs = "item_ids"
        public static let itemDomains = "item_domains"
        public static let userIDs = "user_ids"
        public static let sessionEncoder = "session_encoder"
        public static let sequenceLength = "sequence_length"
        public static let attentionBlocks = "attention_blocks"
        public static let attentionHeads = "attention_heads"
        public static let attentionInput = "attention_input"
        public static let sessionQuery = "session_query"
        public static let sessionRulesWeight = "session_rules_weight"
        public static let sessionRulesSteps = "session_rules_steps"
        public static let sessionRulesAnchor = "session_rules_anchor"
        public static let sessionRulesDepth = "session_rules_depth"
        public static let sessionRulesRepeatBias = "session_rules_repeat_bias"
        public static let domainListsSessionShare = "domain_lists_session_share"
    }

    /// The tensors of the sequential rules (``SequentialRulesTable``), present exactly when
    /// the metadata has ``Key/sessionRulesWeight``.
    public enum RulesTensor {
        public static let rowStart = "session_rules.row_start"
        public static let targets = "session_rules.targets"
        public static let strengths = "session_rules.strengths"
    }

    /// The value of the `format` key.
    public static let formatName = "medley-model"

    // MARK: Writing

    /// The file's bytes. - Precondition: the parameters match the layout (checked).
    public static func encode(_ contents: ModelFileContents) -> [UInt8] {
        let c = contents.configuration
        let layout = contents.layout
        var metadata: [String: String] = [
            Key.format: formatName,
            Key.formatVersion: String(ModelConfiguration.formatVersion),
            Key.modelVersion: String(c.modelVersion),
            Key.activation: "relu",
            Key.domains: json(c.domains),
            Key.embeddingDim: String(c.embeddingDimension),
            Key.contextDim: String(c.contextDimension),
            Key.lastItemSlots: String(c.lastItemSlots),
            Key.hiddenDims: json(c.hiddenDimensions),
            Key.towerHiddenDims: json(c.towerHiddenDimensions),
            Key.eventWeights: json(Dictionary(uniqueKeysWithValues: EventType.allCases.map { ($0.rawValue, c.eventWeights[$0]) })),
            Key.recencyHalfLife: "\(c.recencyHalfLifeSeconds)",
        ]
        switch c.architecture {
        case .mlp:
            metadata[Key.architecture] = "mlp"
        case .mmoe(let experts):
            metadata[Key.architecture] = "mmoe"
            metadata[Key.experts] = String(experts)
        case .ple(let shared, let own, let levels):
            metadata[Key.architecture] = "ple"
            metadata[Key.sharedExperts] = String(shared)
            metadata[Key.taskExperts] = String(own)
            metadata[Key.levels] = String(levels)
        }
        // Written only for a model that has the encoder, so older files stay byte for byte the same.
        if let shape = c.sessionEncoder {
            metadata[Key.sessionEncoder] = shape.kind.rawValue
            metadata[Key.sequenceLength] = String(shape.length)
            if shape.kind == .attention {
                metadata[Key.attentionBlocks] = String(shape.blocks)
                metadata[Key.attentionHeads] = String(shape.heads)
            }
            metadata[Key.attentionInput] = shape.input.rawValue
            metadata[Key.sessionQuery] = shape.sessionQuery.rawValue
        }
        let tensors = layout.entries.map { entry -> (name: String, tensor: Tensor) in
            guard let tensor = contents.parameters.tensors[entry.name], tensor.shape == entry.shape else {
                preconditionFailure("parameters do not match the layout at \(entry.name)")
            }
            return (entry.name, tensor)
        }
        precondition(contents.parameters.tensors.count == layout.entries.count, "parameters have tensors outside the layout")
        let vocabularies = vocabularyTensors(contents)
        var data = vocabularies.leading + tensors.map { ($0.name, SafeTensors.TensorData.float32($0.tensor)) }
        // Written only for a model that has them, so files without rules stay byte for byte the same.
        if let rules = contents.sequentialRules {
            metadata[Key.sessionRulesWeight] = "\(rules.weight)"
            metadata[Key.sessionRulesSteps] = String(rules.steps)
            metadata[Key.sessionRulesAnchor] = rules.anchor.rawValue
            metadata[Key.sessionRulesDepth] = String(rules.depth)
            // Only when set, so that files without a repeat bias stay byte for byte the same.
            if rules.repeatBias != 0 { metadata[Key.sessionRulesRepeatBias] = "\(rules.repeatBias)" }
            data += [(RulesTensor.strengths, .float32(Tensor(shape: [rules.ruleCount], scalars: rules.strengths))),
                     (RulesTensor.rowStart, .int32(rules.rowStart)), (RulesTensor.targets, .int32(rules.targets))]
        }
        // Only when set, so that files whose domain lists are the domain heads' stay byte for byte the same.
        if contents.domainListSessionShare != 0 {
            metadata[Key.domainListsSessionShare] = "\(contents.domainListSessionShare)"
        }
        return SafeTensors.encode(data + vocabularies.trailing, metadata: metadata)
    }

    /// Writes the file atomically (temporary file, fsync, rename, fsync of the directory).
    public static func write(_ contents: ModelFileContents, to url: URL) throws(ModelFileError) {
        try writeBytes(encode(contents), to: url)
    }

    /// Writes bytes already encoded (a model file, or a signature beside one) atomically.
    public static func writeBytes(_ bytes: [UInt8], to url: URL) throws(ModelFileError) {
        do {
            try AtomicFile.write(bytes, to: url)
        } catch {
            throw ModelFileError(error)
        }
    }

    /// A model file's bytes, not yet decoded.
    public static func readBytes(_ url: URL) throws(ModelFileError) -> [UInt8] {
        do {
            return try AtomicFile.read(url)
        } catch {
            throw ModelFileError(error)
        }
    }

    private static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    // MARK: Reading

    /// Reads and validates a model file.
    public static func read(_ url: URL) throws(ModelFileError) -> ModelFileContents {
        try decode(readBytes(url))
    }

    /// Validates and decodes a model file's bytes: the container, the metadata, the
    /// vocabularies, every tensor's presence, dtype and shape, and every value's finiteness.
    public static func decode(_ bytes: [UInt8]) throws(ModelFileError) -> ModelFileContents {
        // Array.withUnsafeBytes rethrows untyped errors, so the typed error travels in a Result.
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            Result { () throws(ModelFileError) in try decode(raw) }
        }.get()
    }

    /// ``decode(_:)-([UInt8])`` over raw bytes.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws(ModelFileError) -> ModelFileContents {
        let header = try SafeTensors.readHeader(raw)
        var byName: [String: SafeTensorsEntry] = [:]
        for entry in header.entries { byName[entry.name] = entry }
        let (configuration, catalog, users) = try decodeConfigurationAndVocabularies(header, &byName, raw: raw)
        let layout = ParameterLayout(configuration: configuration, itemCount: catalog.count, userCount: users.count)
        var tensors: [String: Tensor] = [:]
        for expected in layout.entries {
            guard let entry = byName.removeValue(forKey: expected.name) else { throw .missingTensor(expected.name) }
            guard entry.dtype == "F32" else { throw .unsupportedDType(tensor: entry.name, dtype: entry.dtype, expected: "F32") }
            guard entry.shape == expected.shape else {
                throw .shapeMismatch(tensor: entry.name, expected: expected.shape, actual: entry.shape)
            }
            let values = try SafeTensors.floats(entry, in: raw, dataStart: header.dataStart)
            tensors[entry.name] = Tensor(shape: entry.shape, scalars: values)
        }
        let rules = try decodeRules(header.metadata, &byName, raw: raw, dataStart: header.dataStart, itemCount: catalog.count)
        if let extra = byName.keys.sorted().first { throw .unexpectedTensor(extra) }
        return ModelFileContents(configuration: configuration, catalog: catalog, users: users,
                                 parameters: ModelParameters(tensors: tensors), sequentialRules: rules,
                                 domainListSessionShare: try decodeDomainListSessionShare(header.metadata))
    }

    /// The domain lists' session share; absent (files written before the key existed, and
    /// whenever it is 0) means 0.
    static func decodeDomainListSessionShare(_ m: [String: String]) throws(ModelFileError) -> Float {
        guard let text = m[Key.domainListsSessionShare] else { return 0 }
        guard let share = Float(text), share >= 0, share <= 1 else {
            throw .invalidMetadata(key: Key.domainListsSessionShare, reason: "\"\(text)\" is not a number in [0, 1]")
        }
        return share
    }

    /// The sequential rules, when the metadata says the file has them; their tensors are
    /// taken out of `byName`.
    static func decodeRules(_ m: [String: String], _ byName: inout [String: SafeTensorsEntry], raw: UnsafeRawBufferPointer,
                            dataStart: Int, itemCount: Int) throws(ModelFileError) -> SequentialRulesTable? {
        guard let weightText = m[Key.sessionRulesWeight] else { return nil }
        guard let weight = Float(weightText) else {
            throw .invalidMetadata(key: Key.sessionRulesWeight, reason: "\"\(weightText)\" is not a number")
        }
        guard let stepsText = m[Key.sessionRulesSteps], let steps = Int(stepsText) else {
            throw .invalidMetadata(key: Key.sessionRulesSteps, reason: "missing or not an integer")
        }
        // Absent in files written before the key existed: their rules start from the session.
        let anchor = try choice(m, Key.sessionRulesAnchor, absent: SequentialRulesAnchor.session)
        // Absent in files written before the key existed: their rules start from one item.
        var depth = 1
        if let depthText = m[Key.sessionRulesDepth] {
            guard let value = Int(depthText), (1...SequentialRulesTable.maxDepth).contains(value) else {
                throw .invalidMetadata(key: Key.sessionRulesDepth,
                                       reason: "\"\(depthText)\" is not an integer in 1...\(SequentialRulesTable.maxDepth)")
            }
            depth = value
        }
        // Absent in files written before the key existed, and whenever the bias is 0.
        var repeatBias: Float = 0
        if let biasText = m[Key.sessionRulesRepeatBias] {
            guard let value = Float(biasText), value.isFinite else {
                throw .invalidMetadata(key: Key.sessionRulesRepeatBias, reason: "\"\(biasText)\" is not a finite number")
            }
            repeatBias = value
        }
        func take(_ name: String) throws(ModelFileError) -> SafeTensorsEntry {
            guard let entry = byName.removeValue(forKey: name) else { throw .missingTensor(name) }
            guard entry.shape.count == 1 else { throw .shapeMismatch(tensor: name, expected: [-1], actual: entry.shape) }
            return entry
        }
        let rowStart = try SafeTensors.int32s(try take(RulesTensor.rowStart), in: raw, dataStart: dataStart)
        let targets = try SafeTensors.int32s(try take(RulesTensor.targets), in: raw, dataStart: dataStart)
        let strengths = try SafeTensors.floats(try take(RulesTensor.strengths), in: raw, dataStart: dataStart)
        return try SequentialRulesTable(steps: steps, weight: weight, anchor: anchor, depth: depth, repeatBias: repeatBias,
                                        rowStart: rowStart, targets: targets, strengths: strengths, itemCount: itemCount)
    }

    /// An enumerated key whose absence means `absent` (files written before the key existed).
    static func choice<E: RawRepresentable & CaseIterable>(_ m: [String: String], _ key: String,
                                                           absent: E) throws(ModelFileError) -> E where E.RawValue == String {
        guard let name = m[key] else { return absent }
        guard let value = E(rawValue: name) else {
            throw .invalidMetadata(key: key, reason: "unknown value \"\(name)\" (one of \(E.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return value
    }

    /// The configuration and the vocabularies, from the metadata (format version 1) or from
    /// their tensors (version 2), which are then taken out of `byName`.
    static func decodeConfigurationAndVocabularies(_ header: SafeTensorsHeader, _ byName: inout [String: SafeTensorsEntry],
                                                   raw: UnsafeRawBufferPointer) throws(ModelFileError)
        -> (ModelConfiguration, ItemCatalog, UserVocabulary) {
        let (configuration, metadataVocabularies) = try decodeMetadata(header.metadata)
        if let (catalog, users) = metadataVocabularies { return (configuration, catalog, users) }
        let (catalog, users) = try decodeVocabularyTensors(header.metadata, &byName, raw: raw, dataStart: header.dataStart,
                                                           domainCount: configuration.domains.count)
        return (configuration, catalog, users)
    }

    /// The configuration, and the vocabularies when the metadata holds them (format version 1).
    static func decodeMetadata(_ m: [String: String]) throws(ModelFileError)
        -> (ModelConfiguration, (ItemCatalog, UserVocabulary)?) {
        func string(_ key: String) throws(ModelFileError) -> String {
            guard let value = m[key] else { throw .missingMetadata(key: key) }
            return value
        }
        func integer(_ key: String) throws(ModelFileError) -> Int {
            guard let value = Int(try string(key)) else { throw .invalidMetadata(key: key, reason: "not a decimal integer") }
            return value
        }
        func decoded<T: Decodable>(_ key: String, as type: T.Type, _ what: String) throws(ModelFileError) -> T {
            let text = try string(key)
            do {
                return try JSONDecoder().decode(T.self, from: Data(text.utf8))
            } catch {
                throw .invalidMetadata(key: key, reason: "not \(what)")
            }
        }
        guard try string(Key.format) == formatName else {
            throw .invalidMetadata(key: Key.format, reason: "expected \"\(formatName)\"")
        }
        let version = try string(Key.formatVersion)
        guard let vocabularyLayout = VocabularyLayout(formatVersion: version) else { throw .unsupportedFormatVersion(version) }
        guard let modelVersion = UInt64(try string(Key.modelVersion)) else {
            throw .invalidMetadata(key: Key.modelVersion, reason: "not an unsigned decimal integer")
        }
        guard try string(Key.activation) == "relu" else {
            throw .invalidMetadata(key: Key.activation, reason: "only \"relu\" is supported")
        }
        let architecture: ModelConfiguration.Architecture
        switch try string(Key.architecture) {
        case "mlp": architecture = .mlp
        case "mmoe": architecture = .mmoe(experts: try integer(Key.experts))
        case "ple":
            architecture = .ple(sharedExperts: try integer(Key.sharedExperts), taskExperts: try integer(Key.taskExperts),
                                levels: try integer(Key.levels))
        case let other: throw .invalidMetadata(key: Key.architecture, reason: "unknown architecture \"\(other)\"")
        }
        let rawWeights = try decoded(Key.eventWeights, as: [String: Float].self, "a JSON object of numbers")
        var weights: [EventType: Float] = [:]
        for (name, w) in rawWeights {
            guard let type = EventType(rawValue: name) else {
                throw .invalidMetadata(key: Key.eventWeights, reason: "unknown event type \"\(name)\"")
            }
            weights[type] = w
        }
        guard let halfLife = Float(try string(Key.recencyHalfLife)) else {
            throw .invalidMetadata(key: Key.recencyHalfLife, reason: "not a number")
        }
        var sessionEncoder: SessionEncoderShape?
        switch m[Key.sessionEncoder] {
        case nil, "none":
            sessionEncoder = nil
        case "attention":
            // Absent in files written before the keys existed: those encoders read the session
            // and the session query is the tower's.
            let input = try choice(m, Key.attentionInput, absent: AttentionSequence.session)
            let sessionQuery = try choice(m, Key.sessionQuery, absent: SessionQueryForm.tower)
            sessionEncoder = SessionEncoderShape(length: try integer(Key.sequenceLength), blocks: try integer(Key.attentionBlocks),
                                                     heads: try integer(Key.attentionHeads), input: input, sessionQuery: sessionQuery)
        case "gru":
            sessionEncoder = SessionEncoderShape(kind: .gru, length: try integer(Key.sequenceLength),
                                                 input: try choice(m, Key.attentionInput, absent: AttentionSequence.session),
                                                 sessionQuery: try choice(m, Key.sessionQuery, absent: SessionQueryForm.tower))
        case let other?:
            throw .invalidMetadata(key: Key.sessionEncoder, reason: "unknown session encoder \"\(other)\"")
        }
        let configuration = ModelConfiguration(
            modelVersion: modelVersion,
            domains: try decoded(Key.domains, as: [String].self, "a JSON array of strings"),
            embeddingDimension: try integer(Key.embeddingDim),
            contextDimension: try integer(Key.contextDim),
            lastItemSlots: try integer(Key.lastItemSlots),
            hiddenDimensions: try decoded(Key.hiddenDims, as: [Int].self, "a JSON array of integers"),
            towerHiddenDimensions: try decoded(Key.towerHiddenDims, as: [Int].self, "a JSON array of integers"),
            architecture: architecture,
            eventWeights: try EventWeights(weights),
            recencyHalfLifeSeconds: halfLife,
            sessionEncoder: sessionEncoder
        )
        try configuration.validate()
        guard vocabularyLayout == .metadata else { return (configuration, nil) }
        let catalog = try ItemCatalog(
            ids: try decoded(Key.itemIDs, as: [String].self, "a JSON array of strings"),
            domainOfItem: try decoded(Key.itemDomains, as: [Int].self, "a JSON array of integers"),
            domainCount: configuration.domains.count)
        let users = try UserVocabulary(ids: try decoded(Key.userIDs, as: [String].self, "a JSON array of strings"))
        return (configuration, (catalog, users))
    }
}
