import Testing

@Test func placeholderQuellHTTPTests() { #expect(Bool(true)) }
