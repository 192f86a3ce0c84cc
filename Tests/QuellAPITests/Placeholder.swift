import Testing

@Test func placeholderQuellAPITests() { #expect(Bool(true)) }
