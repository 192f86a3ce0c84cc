import QuellTerminal

/// Plain-text help for a command (no colour, fits 80 columns for our set).
enum HelpFormatter {
    static func help(for spec: CommandSpec, path: [String]) -> String {
        let name = path.joined(separator: " ")
        var lines: [String] = []

        var usage = "Usage: \(name)"
        if !spec.subcommands.isEmpty {
            usage += " <command>"
        } else {
            for positional in spec.positionals {
                usage += positional.required ? " \(positional.name)" : " [\(positional.name)]"
            }
        }
        usage += " [options]"
        lines.append(usage)
        lines.append("")
        lines.append(spec.summary)
        if let discussion = spec.discussion {
            lines.append("")
            for line in discussion.split(separator: "\n", omittingEmptySubsequences: false) {
                lines.append(contentsOf: line.isEmpty ? [""] : wrap(String(line), width: 80))
            }
        }

        if !spec.subcommands.isEmpty {
            lines.append("")
            lines.append("Commands:")
            let rows = spec.subcommands.map { sub in
                (([sub.name] + sub.positionals.map { $0.required ? $0.name : "[\($0.name)]" }).joined(separator: " "), sub.summary)
            }
            lines.append(contentsOf: table(rows))
        }

        if !spec.positionals.isEmpty {
            lines.append("")
            lines.append("Arguments:")
            lines.append(contentsOf: table(spec.positionals.map { ($0.name, $0.help) }))
        }

        lines.append("")
        lines.append("Options:")
        var rows = spec.options.map { ($0.synopsis, describe($0)) }
        rows.append(("-h, --help", ["show this help"]))
        lines.append(contentsOf: table(rows))

        if !spec.subcommands.isEmpty {
            lines.append("")
            lines.append("Run '\(name) <command> --help' for the options of a command.")
        }
        if let epilogue = spec.epilogue {
            lines.append("")
            lines.append(contentsOf: epilogue.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The help text, then `[env NAME, default VALUE]` as a second paragraph.
    private static func describe(_ option: OptionSpec) -> [String] {
        var notes: [String] = []
        if let environment = option.environment {
            notes.append(option.kind == .flag ? "env \(environment)=1" : "env \(environment)")
        }
        if let value = option.defaultValue { notes.append("default \(value)") }
        return notes.isEmpty ? [option.help] : [option.help, "[\(notes.joined(separator: ", "))]"]
    }

    /// Two columns: the first padded to its widest entry plus two spaces;
    /// the second made of paragraphs, each continuing the current line when
    /// it fits within `width` and starting a new line (word-wrapped) when not.
    static func table(_ rows: [(String, [String])], indent: String = "  ", width: Int = 80) -> [String] {
        let column = (rows.map { TextLayout.width($0.0) }.max() ?? 0) + 2
        let room = max(width - indent.count - column, 20)
        var lines: [String] = []
        for (left, paragraphs) in rows {
            var right: [String] = []
            for paragraph in paragraphs where !paragraph.isEmpty {
                if let last = right.last, TextLayout.width(last) + 1 + TextLayout.width(paragraph) <= room {
                    right[right.count - 1] = last + " " + paragraph
                } else {
                    right.append(contentsOf: wrap(paragraph, width: room))
                }
            }
            guard let first = right.first else {
                lines.append(indent + left)
                continue
            }
            lines.append(indent + TextLayout.padRight(left, to: column) + first)
            for more in right.dropFirst() {
                lines.append(indent + String(repeating: " ", count: column) + more)
            }
        }
        return lines
    }

    static func table(_ rows: [(String, String)], indent: String = "  ", width: Int = 80) -> [String] {
        table(rows.map { ($0.0, [$0.1]) }, indent: indent, width: width)
    }

    /// Greedy word wrap; a word longer than `width` gets a line of its own.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty {
                current = String(word)
            } else if TextLayout.width(current) + 1 + TextLayout.width(word) <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The Configuration section of the top-level help.
    static func configuration(_ settings: [Setting]) -> String {
        var rows: [[String]] = [["FLAG", "ENVIRONMENT", "DEFAULT"]]
        for setting in settings {
            let flag = setting.flag.map { "--\($0)" } ?? "-"
            rows.append([flag, setting.environment + (setting.placeholder == nil ? "=1" : ""), setting.defaultDescription])
        }
        let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = ["Configuration (a flag wins over the environment, which wins over the default):"]
        for row in rows {
            lines.append("  " + TextLayout.padRight(row[0], to: widths[0] + 2)
                + TextLayout.padRight(row[1], to: widths[1] + 2) + row[2])
        }
        lines.append("  QUELL_TOKENS: TOKEN=TENANT,TOKEN2=TENANT2. QUELL_ADMIN_TOKEN sees all tenants.")
        lines.append("  Redis URLs: redis://[user:pass@]host:port/db or unix:///path.")
        lines.append("  Seconds may be fractional (0.2).")
        return lines.joined(separator: "\n")
    }
}
