import Testing

@Test func placeholderQuellCLITests() { #expect(Bool(true)) }
