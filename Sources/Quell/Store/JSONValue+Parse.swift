extension JSONValue {
    /// Parses JSON text strictly (`JSONReader`: RFC 8259, no duplicate member names,
    /// nesting at most `maxDepth` deep, numbers kept exactly). Throws
    /// `QuellError.invalid("invalid JSON: <what> at byte <offset>")`.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = JSONReader.defaultMaxDepth) throws -> JSONValue {
        do {
            return try JSONReader(maxDepth: maxDepth).read(bytes)
        } catch {
            throw QuellError.invalid(error.description)
        }
    }

    public static func parse(_ text: String, maxDepth: Int = JSONReader.defaultMaxDepth) throws -> JSONValue {
        try parse(text.utf8, maxDepth: maxDepth)
    }
}
