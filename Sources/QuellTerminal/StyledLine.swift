/// A run of text with one set of style attributes.
public struct Span: Sendable, Equatable {
    public var text: String
    public var attributes: [Style.Attribute]

    public init(_ text: String, _ attributes: [Style.Attribute] = []) {
        self.text = text
        self.attributes = attributes
    }
}

/// One screen line as styled spans, so it can be measured, clipped and
/// padded by visible width before any escape sequence is emitted.
public struct StyledLine: Sendable, Equatable {
    public var spans: [Span]

    public init(_ spans: [Span] = []) { self.spans = spans }

    public init(_ text: String, _ attributes: [Style.Attribute] = []) {
        self.spans = text.isEmpty ? [] : [Span(text, attributes)]
    }

    public mutating func append(_ text: String, _ attributes: [Style.Attribute] = []) {
        guard !text.isEmpty else { return }
        spans.append(Span(text, attributes))
    }

    public mutating func append(_ line: StyledLine) { spans.append(contentsOf: line.spans) }

    /// The text without styling.
    public var plainText: String { spans.map(\.text).joined() }

    /// Visible width in terminal columns.
    public var width: Int { spans.reduce(0) { $0 + TextLayout.width($1.text) } }

    /// At most `maxWidth` columns; a cut line ends with an ellipsis carrying
    /// the style of the span that was cut.
    public func clipped(to maxWidth: Int) -> StyledLine {
        guard maxWidth > 0 else { return StyledLine() }
        if width <= maxWidth { return self }
        let budget = maxWidth - TextLayout.width(TextLayout.ellipsis)
        var out: [Span] = []
        var used = 0
        for span in spans {
            var kept = ""
            var full = true
            for character in span.text {
                let w = TextLayout.width(of: character)
                if used + w > budget { full = false; break }
                kept.append(character)
                used += w
            }
            if full {
                out.append(span)
                continue
            }
            out.append(Span(kept + TextLayout.ellipsis, span.attributes))
            break
        }
        return StyledLine(out.filter { !$0.text.isEmpty })
    }

    /// Clipped to `targetWidth`, then padded with unstyled spaces to exactly it.
    public func fitted(to targetWidth: Int) -> StyledLine {
        var line = clipped(to: targetWidth)
        let missing = targetWidth - line.width
        if missing > 0 { line.append(String(repeating: " ", count: missing)) }
        return line
    }

    /// The line without trailing spaces (so plain output has none).
    public func trimmingTrailingSpaces() -> StyledLine {
        var spans = spans
        while let last = spans.last {
            let trimmed = String(last.text.reversed().drop { $0 == " " }.reversed())
            if trimmed.isEmpty {
                spans.removeLast()
                continue
            }
            spans[spans.count - 1].text = trimmed
            break
        }
        return StyledLine(spans)
    }

    /// Right-aligned in exactly `targetWidth` columns (clipped first).
    public func fittedRight(to targetWidth: Int) -> StyledLine {
        let line = clipped(to: targetWidth)
        let missing = targetWidth - line.width
        guard missing > 0 else { return line }
        return StyledLine([Span(String(repeating: " ", count: missing))] + line.spans)
    }

    /// The line as a string; `extra` attributes (e.g. `.inverse` for a
    /// selected row) are added to every span.
    public func render(_ style: Style, extra: [Style.Attribute] = []) -> String {
        var out = ""
        var pending = ""
        var pendingAttributes: [Style.Attribute] = []
        // Adjacent spans with the same attributes share one escape sequence.
        for span in spans {
            let attributes = extra + span.attributes
            if attributes != pendingAttributes {
                out += style.apply(pending, pendingAttributes)
                pending = ""
                pendingAttributes = attributes
            }
            pending += span.text
        }
        return out + style.apply(pending, pendingAttributes)
    }
}
