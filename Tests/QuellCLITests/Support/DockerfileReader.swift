import Foundation

/// The instructions of a Dockerfile, enough to check what it refers to:
/// stages (`FROM image AS name`), their COPY sources and RUN commands, and
/// ENTRYPOINT. Continuation lines (`\`) are joined; comments are dropped.
struct Dockerfile {
    struct Instruction {
        var keyword: String
        var arguments: String
        var line: Int
    }

    struct Copy {
        /// `--from=STAGE`, nil when copying from the build context.
        var from: String?
        var sources: [String]
        var destination: String
        var line: Int
    }

    struct Stage {
        var name: String?
        var image: String
        var instructions: [Instruction] = []

        var runs: [String] { instructions.filter { $0.keyword == "RUN" }.map(\.arguments) }
        var entrypoint: [String]? {
            instructions.last { $0.keyword == "ENTRYPOINT" }.flatMap { Dockerfile.execForm($0.arguments) }
        }
        var copies: [Copy] {
            get throws { try instructions.filter { $0.keyword == "COPY" || $0.keyword == "ADD" }.map(Dockerfile.copy) }
        }
    }

    var stages: [Stage] = []

    init(_ text: String) throws {
        var logical: [(line: Int, text: String)] = []
        var pending: (line: Int, text: String)?
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") || (trimmed.isEmpty && pending == nil) { continue }
            var part = trimmed
            let continues = part.hasSuffix("\\")
            if continues { part = String(part.dropLast()).trimmingCharacters(in: .whitespaces) }
            if var current = pending {
                current.text += part.isEmpty ? "" : " " + part
                pending = current
            } else {
                pending = (n + 1, part)
            }
            if !continues, let done = pending {
                logical.append(done)
                pending = nil
            }
        }
        if let done = pending { logical.append(done) }

        for (line, text) in logical {
            let keyword = String(text.prefix { !$0.isWhitespace }).uppercased()
            let arguments = String(text.dropFirst(keyword.count)).trimmingCharacters(in: .whitespaces)
            if keyword == "FROM" {
                let words = arguments.split(separator: " ").map(String.init).filter { !$0.hasPrefix("--") }
                guard let image = words.first else { throw DockerfileError(line: line, message: "FROM without an image") }
                let name = words.count == 3 && words[1].uppercased() == "AS" ? words[2] : nil
                stages.append(Stage(name: name, image: image))
            } else {
                guard !stages.isEmpty else {
                    if keyword == "ARG" { continue }
                    throw DockerfileError(line: line, message: "\(keyword) before any FROM")
                }
                stages[stages.count - 1].instructions.append(Instruction(keyword: keyword, arguments: arguments, line: line))
            }
        }
    }

    func stage(named name: String) -> Stage? { stages.first { $0.name == name } }

    /// `["a", "b"]` as strings; nil for the shell form.
    static func execForm(_ arguments: String) -> [String]? {
        guard arguments.hasPrefix("["), let data = arguments.data(using: .utf8),
              let array = try? JSONSerialization.jsonObject(with: data) as? [String] else { return nil }
        return array
    }

    static func copy(_ instruction: Instruction) throws -> Copy {
        var from: String?
        var words = instruction.arguments.split(separator: " ").map(String.init)
        while let first = words.first, first.hasPrefix("--") {
            if first.hasPrefix("--from=") { from = String(first.dropFirst("--from=".count)) }
            words.removeFirst()
        }
        if let exec = execForm(words.joined(separator: " ")) { words = exec }
        guard words.count >= 2 else {
            throw DockerfileError(line: instruction.line, message: "\(instruction.keyword) needs a source and a destination")
        }
        return Copy(from: from, sources: Array(words.dropLast()), destination: words.last!, line: instruction.line)
    }
}

struct DockerfileError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "Dockerfile line \(line): \(message)" }
}

/// Shell-like words of a command line: whitespace-separated, with '…' and "…"
/// quoting (no expansions). Enough for a `swift build …` line.
func shellWords(_ text: String) -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    for c in text {
        if let q = quote {
            if c == q { quote = nil } else { current.append(c) }
        } else if c == "'" || c == "\"" {
            quote = c
            inWord = true
        } else if c.isWhitespace {
            if inWord { words.append(current); current = ""; inWord = false }
        } else {
            current.append(c)
            inWord = true
        }
    }
    if inWord { words.append(current) }
    return words
}
