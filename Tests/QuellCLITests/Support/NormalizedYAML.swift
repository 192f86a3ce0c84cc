/// A reader for the YAML that `docker-compose config` prints (compose 1.29.2,
/// PyYAML's block style): nested block mappings and sequences (a sequence may
/// sit at its key's own indentation), `- key: value` items, plain, 'single'
/// and "double" quoted scalars (a scalar may continue on deeper lines), and
/// the empty flow collections `{}` and `[]`. Anything else — anchors, tags,
/// block scalars, other flow collections, tabs — is an error, never a guess.
/// Comments and blank lines are skipped (compose prints neither).
enum YAMLValue: Sendable, Equatable, CustomStringConvertible {
    case scalar(String)
    case sequence([YAMLValue])
    /// Keys in file order.
    case mapping([(key: String, value: YAMLValue)])

    static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case (.scalar(let x), .scalar(let y)): x == y
        case (.sequence(let x), .sequence(let y)): x == y
        case (.mapping(let x), .mapping(let y)): x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value)
        default: false
        }
    }

    subscript(key: String) -> YAMLValue? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    var string: String? {
        if case .scalar(let s) = self { return s }
        return nil
    }

    var keys: [String] {
        if case .mapping(let entries) = self { return entries.map(\.key) }
        return []
    }

    var items: [YAMLValue]? {
        if case .sequence(let items) = self { return items }
        return nil
    }

    /// A sequence of scalars, or one scalar as a one-element list.
    var strings: [String]? {
        switch self {
        case .scalar(let s): [s]
        case .sequence(let items): items.compactMap(\.string).count == items.count ? items.compactMap(\.string) : nil
        case .mapping: nil
        }
    }

    var description: String {
        switch self {
        case .scalar(let s): "\"\(s)\""
        case .sequence(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .mapping(let entries): "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

struct YAMLError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "YAML line \(line): \(message)" }
}

struct NormalizedYAMLReader {
    private struct Line {
        var number: Int
        var indent: Int
        var text: Substring
    }

    private var lines: [Line] = []
    private var index = 0

    static func parse(_ text: String) throws(YAMLError) -> YAMLValue {
        var reader = NormalizedYAMLReader()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = raw.drop { $0 == " " }
            if content.isEmpty || content.hasPrefix("#") || raw == "---" { continue }
            if content.hasPrefix("\t") || raw.hasPrefix("\t") { throw YAMLError(line: n + 1, message: "tab indentation") }
            reader.lines.append(Line(number: n + 1, indent: raw.count - content.count, text: content))
        }
        guard let first = reader.lines.first else { return .mapping([]) }
        let value = try reader.node(at: first.indent)
        if reader.index < reader.lines.count {
            let line = reader.lines[reader.index]
            throw YAMLError(line: line.number, message: "unexpected indentation")
        }
        return value
    }

    private static func isItem(_ text: Substring) -> Bool { text == "-" || text.hasPrefix("- ") }

    /// The node whose first line is the current one, at `indent`.
    private mutating func node(at indent: Int) throws(YAMLError) -> YAMLValue {
        Self.isItem(lines[index].text) ? try sequence(at: indent) : try mapping(at: indent)
    }

    private mutating func sequence(at indent: Int) throws(YAMLError) -> YAMLValue {
        var items: [YAMLValue] = []
        while index < lines.count, lines[index].indent == indent, Self.isItem(lines[index].text) {
            let line = lines[index]
            let rest = line.text.dropFirst().drop { $0 == " " }
            if rest.isEmpty {
                index += 1
                items.append(try nested(deeperThan: indent, orSequenceAt: nil, line: line.number))
            } else if Self.splitKey(rest) != nil {
                // `- key: value`: a mapping whose keys line up with `key`.
                let column = indent + (line.text.count - rest.count)
                lines[index] = Line(number: line.number, indent: column, text: rest)
                items.append(try mapping(at: column))
            } else {
                index += 1
                items.append(try scalar(rest, continuedDeeperThan: indent, line: line.number))
            }
        }
        return .sequence(items)
    }

    private mutating func mapping(at indent: Int) throws(YAMLError) -> YAMLValue {
        var entries: [(key: String, value: YAMLValue)] = []
        while index < lines.count, lines[index].indent == indent, !Self.isItem(lines[index].text) {
            let line = lines[index]
            guard let (rawKey, rest) = Self.splitKey(line.text) else {
                throw YAMLError(line: line.number, message: "expected 'key:' in a mapping, found '\(line.text)'")
            }
            let key = try Self.unquote(rawKey, line: line.number)
            if entries.contains(where: { $0.key == key }) {
                throw YAMLError(line: line.number, message: "duplicate key '\(key)'")
            }
            index += 1
            let value: YAMLValue = rest.isEmpty
                ? try nested(deeperThan: indent, orSequenceAt: indent, line: line.number)
                : try scalar(rest, continuedDeeperThan: indent, line: line.number)
            entries.append((key, value))
        }
        return .mapping(entries)
    }

    /// The value of a `key:` or `-` with nothing after it: a deeper node, a
    /// sequence at the key's own indentation, or an empty (null) scalar.
    private mutating func nested(deeperThan indent: Int, orSequenceAt sequenceIndent: Int?, line: Int) throws(YAMLError) -> YAMLValue {
        guard index < lines.count else { return .scalar("") }
        let next = lines[index]
        if next.indent > indent { return try node(at: next.indent) }
        if next.indent == sequenceIndent, Self.isItem(next.text) { return try sequence(at: next.indent) }
        return .scalar("")
    }

    /// A scalar starting with `text`, joined (folded with spaces) with any
    /// following lines deeper than `indent`.
    private mutating func scalar(_ text: Substring, continuedDeeperThan indent: Int, line: Int) throws(YAMLError) -> YAMLValue {
        var joined = String(text)
        let quoted = text.first == "'" || text.first == "\""
        while index < lines.count, lines[index].indent > indent {
            let more = lines[index].text
            if !quoted, more.contains(": ") || more.hasSuffix(":") || Self.isItem(more) {
                throw YAMLError(line: lines[index].number, message: "unexpected indentation (a key or item inside a plain scalar)")
            }
            joined += " " + more
            index += 1
        }
        switch joined {
        case "{}": return .mapping([])
        case "[]": return .sequence([])
        default: return .scalar(try Self.unquote(Substring(joined), line: line))
        }
    }

    /// Splits `key: value` or `key:` (plain or quoted key); nil when the line is no key.
    private static func splitKey(_ text: Substring) -> (Substring, Substring)? {
        var i = text.startIndex
        if let quote = text.first, quote == "'" || quote == "\"" {
            i = text.index(after: i)
            while i < text.endIndex {
                if text[i] == "\\" && quote == "\"" {
                    i = text.index(after: i)
                    if i < text.endIndex { i = text.index(after: i) }
                    continue
                }
                if text[i] == quote {
                    let after = text.index(after: i)
                    if quote == "'", after < text.endIndex, text[after] == "'" { i = text.index(after: after); continue }
                    i = after
                    break
                }
                i = text.index(after: i)
            }
            guard i < text.endIndex, text[i] == ":" else { return nil }
        } else {
            while i < text.endIndex {
                if text[i] == ":" {
                    let after = text.index(after: i)
                    if after == text.endIndex || text[after] == " " { break }
                }
                i = text.index(after: i)
            }
            guard i < text.endIndex else { return nil }
        }
        let key = text[text.startIndex..<i]
        let rest = text[text.index(after: i)...].drop { $0 == " " }
        return key.isEmpty ? nil : (key, rest)
    }

    private static func unquote(_ text: Substring, line: Int) throws(YAMLError) -> String {
        guard let first = text.first else { return "" }
        switch first {
        case "'":
            guard text.count >= 2, text.last == "'" else { throw YAMLError(line: line, message: "unterminated 'string'") }
            return String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        case "\"":
            guard text.count >= 2, text.last == "\"" else { throw YAMLError(line: line, message: "unterminated \"string\"") }
            return try unescape(text.dropFirst().dropLast(), line: line)
        case "&", "*", "!", "|", ">", "{", "[", "%", "@", "`":
            throw YAMLError(line: line, message: "unsupported YAML: '\(text)'")
        default:
            if text.contains(" #") { throw YAMLError(line: line, message: "unsupported YAML (comment after a value): '\(text)'") }
            return String(text)
        }
    }

    private static func unescape(_ text: Substring, line: Int) throws(YAMLError) -> String {
        var out = ""
        var chars = text.makeIterator()
        while let c = chars.next() {
            guard c == "\\" else { out.append(c); continue }
            switch chars.next() {
            case "\\": out.append("\\")
            case "\"": out.append("\"")
            case "/": out.append("/")
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "0": out.append("\0")
            case " ": out.append(" ")
            case let other: throw YAMLError(line: line, message: "unsupported escape \\\(other.map(String.init) ?? "")")
            }
        }
        return out
    }
}
