import Testing

@Test func placeholderQuellTests() { #expect(Bool(true)) }
