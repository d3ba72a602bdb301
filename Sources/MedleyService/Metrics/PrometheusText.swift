import MedleySystem
/// Prometheus's text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines, then one
/// sample per line, `name{label="value",…} number`.
struct PrometheusText {
    private(set) var text = ""

    mutating func counter(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        family(name, help, type: "counter", samples)
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double) {
        family(name, help, type: "counter", [([], value)])
    }

    mutating func gauge(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        family(name, help, type: "gauge", samples)
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        family(name, help, type: "gauge", [([], value)])
    }

    mutating func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
        header(name, help, type: "histogram")
        var cumulative: UInt64 = 0
        for (index, count) in histogram.bucketCounts.enumerated() {
            cumulative += count
            let bound = index < histogram.upperBounds.count ? Self.number(histogram.upperBounds[index]) : "+Inf"
            sample("\(name)_bucket", [("le", bound)], Double(cumulative))
        }
        sample("\(name)_sum", [], histogram.sum)
        sample("\(name)_count", [], Double(histogram.count))
    }

    private mutating func family(_ name: String, _ help: String, type: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        header(name, help, type: type)
        for (labels, value) in samples { sample(name, labels, value) }
    }

    private mutating func header(_ name: String, _ help: String, type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " \(Self.number(value))\n"
    }

    /// Label values escape backslash, double quote and line feed.
    static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Integers without a fraction, others in Swift's shortest round-tripping form.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
