import Foundation
import Quell
import QuellSystem
import Testing

/// The strict JSON reader (issue 14 §2): no recursion, a depth cap, RFC 8259 and
/// nothing more, numbers kept exactly as written.
@Suite struct JSONReaderTests {
    /// The reader's error, or nil when `text` reads.
    private func failure(_ bytes: [UInt8], maxDepth: Int = JSONReader.defaultMaxDepth) -> JSONSyntaxError? {
        do {
            _ = try JSONReader(maxDepth: maxDepth).read(bytes)
            return nil
        } catch {
            return error
        }
    }

    private func failure(_ text: String) -> JSONSyntaxError? { failure(Array(text.utf8)) }

    /// Runs `body` on a thread of its own with a small stack (the API serves each
    /// connection on a 512 KiB one), so recursion driven by the input would crash.
    private func onSmallStack<T: Sendable>(_ stackSize: Int = 256 << 10, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            OSThread.start(stackSize: stackSize) { continuation.resume(returning: body()) }
        }
    }

    // MARK: - Depth

    @Test func deepNestingIsAnErrorNotACrash() async {
        // The bodies from the report: ~2.7 KB of objects 350 deep, and far deeper ones.
        let objects350 = String(repeating: #"{"a":"#, count: 350) + "1" + String(repeating: "}", count: 350)
        let arrays10k = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let objects10k = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        let mixed10k = String(repeating: #"[{"a":"#, count: 5_000) + "1" + String(repeating: "}]", count: 5_000)
        let errors = await onSmallStack {
            [objects350, arrays10k, objects10k, mixed10k].map { text -> String in
                do {
                    _ = try JSONValue.parse(text)
                    return "accepted"
                } catch {
                    return "\(error)"
                }
            }
        }
        #expect(errors[0] == "invalid JSON: nesting deeper than 64 at byte 320")  // the 65th '{'
        #expect(errors[1] == "invalid JSON: nesting deeper than 64 at byte 64")
        #expect(errors[2] == "invalid JSON: nesting deeper than 64 at byte 320")
        #expect(errors[3] == "invalid JSON: nesting deeper than 64 at byte 192")  // 32 × `[{"a":` is 192 bytes
    }

    @Test func nestingOf64IsAllowedAnd65IsNot() async throws {
        let arrays64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let objects64 = String(repeating: #"{"k":"#, count: 63) + "{}" + String(repeating: "}", count: 63)
        let mixed64 = String(repeating: #"[{"k":"#, count: 32) + "null" + String(repeating: "}]", count: 32)
        for text in [arrays64, objects64, mixed64] {
            let value = try JSONValue.parse(text)
            #expect(value.jsonString == text)
        }
        #expect(failure("[" + arrays64 + "]")?.reason == "nesting deeper than 64")
        #expect(failure(#"{"k":"# + objects64 + "}")?.reason == "nesting deeper than 64")
        // Scalars inside the deepest container do not count as a level.
        #expect(try JSONValue.parse(String(repeating: "[", count: 64) + "1,\"s\",true" + String(repeating: "]", count: 64)) != .null)
    }

    @Test func maxDepthIsConfigurable() throws {
        #expect(try JSONReader(maxDepth: 2).read("[[1]]") == .array([.array([.number(1)])]))
        #expect(failure(Array("[[[1]]]".utf8), maxDepth: 2) == JSONSyntaxError("nesting deeper than 2", at: 2))
        #expect(failure(Array("{}".utf8), maxDepth: 0)?.reason == "nesting deeper than 0")
        #expect(try JSONReader(maxDepth: 0).read("7") == .number(7))
        #expect(throws: QuellError.invalid("invalid JSON: nesting deeper than 1 at byte 1")) { try JSONValue.parse("[[]]", maxDepth: 1) }
    }

    @Test func aMegabyteOfOpenBracketsFailsAtTheCap() async {
        // Fails at the 65th byte by construction: the rest is never looked at.
        let bytes = [UInt8](repeating: UInt8(ascii: "["), count: 1 << 20)
        let error = await onSmallStack { failure(bytes) }
        #expect(error == JSONSyntaxError("nesting deeper than 64", at: 64))
        // A megabyte of flat array reads (linear: each byte is looked at a bounded number of times).
        var building = [UInt8]("[".utf8)
        for _ in 0..<(1 << 18) { building += Array("1,".utf8) }
        building[building.count - 1] = UInt8(ascii: "]")
        let flat = building
        let count = await onSmallStack { (try? JSONReader().read(flat))?.arrayCount ?? -1 }
        #expect(count == 1 << 18)
    }

    // MARK: - Loose acceptance, now rejected

    @Test func duplicateMemberNamesAreRejected() throws {
        #expect(failure(#"{"a":1,"a":2}"#) == JSONSyntaxError(#"duplicate member name "a""#, at: 7))
        #expect(failure(#"{"x":{"id":1,"b":2,"id":3}}"#) == JSONSyntaxError(#"duplicate member name "id""#, at: 19))
        #expect(failure(#"{"a":1,"b":2,"a":1}"#)?.reason == #"duplicate member name "a""#)
        // The same name spelled with an escape is the same name.
        #expect(failure(#"{"a":1,"\u0061":2}"#)?.reason == #"duplicate member name "a""#)
        // Canonically equivalent names are one Swift String, so one dictionary key: rejected too.
        #expect(failure("{\"\u{E9}\":1,\"e\u{301}\":2}")?.reason.hasPrefix("duplicate member name") == true)
        // Names differing in case, or in different objects, are different.
        #expect(try JSONValue.parse(#"{"a":1,"A":2,"o":{"a":3}}"#).jsonString == #"{"A":2,"a":1,"o":{"a":3}}"#)
        #expect(throws: QuellError.invalid(#"invalid JSON: duplicate member name "a" at byte 7"#)) { try JSONValue.parse(#"{"a":1,"a":2}"#) }
    }

    @Test func trailingCommasAreRejected() {
        #expect(failure("[1,]") == JSONSyntaxError("trailing comma before ']'", at: 2))
        #expect(failure(#"{"a":1,}"#) == JSONSyntaxError("trailing comma before '}'", at: 6))
        #expect(failure("[1, \n ]") == JSONSyntaxError("trailing comma before ']'", at: 2))
        #expect(failure("[1,,2]")?.reason == "expected a value, got ','")
        #expect(failure("[,]")?.reason == "expected a value, got ','")
        #expect(failure("{,}")?.reason.hasPrefix("expected a member name") == true)
        #expect(failure(#"[{"a":[1,],"b":2}]"#)?.offset == 8)
    }

    // MARK: - Numbers, exactly

    @Test func bigIntegersRoundTripExactly() throws {
        for text in ["9007199254740993", "-9223372036854775808", "18446744073709551615",
                     "123456789012345678901234567890", "-0", "1.0", "1E+2", "0.1e-7", "2.5e-324"] {
            #expect(try JSONValue.parse(text).jsonString == text)
            #expect(try JSONValue.parse("[\(text)]").jsonString == "[\(text)]")
        }
        let params = try JSONValue.parse(#"{"id":9007199254740993,"min":-9223372036854775808,"max":18446744073709551615}"#)
        #expect(params.jsonString == #"{"id":9007199254740993,"max":18446744073709551615,"min":-9223372036854775808}"#)
        #expect(params["id"]?.intValue == 9_007_199_254_740_993)
        #expect(params["id"]?.int64Value == 9_007_199_254_740_993)
        #expect(params["min"]?.int64Value == Int64.min)
        #expect(params["max"]?.uint64Value == UInt64.max && params["max"]?.int64Value == nil)
        #expect(params["id"]?.numberValue?.text == "9007199254740993")
        #expect(params["id"]?.doubleValue == 9_007_199_254_740_992)  // the nearest double, as documented
        // Beyond 64 bits: kept as text, no integer view.
        let huge = try JSONValue.parse("18446744073709551616")
        #expect(huge.uint64Value == nil && huge.intValue == nil && huge.numberValue?.isInteger == true)
    }

    @Test func integerViewsAreExact() throws {
        func number(_ text: String) throws -> JSONNumber { try #require(JSONNumber(text: text)) }
        #expect(try number("1e2").intValue == 100)
        #expect(try number("100.000").intValue == 100)
        #expect(try number("12.5e1").intValue == 125)
        #expect(try number("1.5").intValue == nil)
        #expect(try number("-0").intValue == 0 && number("-0").uint64Value == 0)
        #expect(try number("-1").uint64Value == nil)
        #expect(try number("9223372036854775807").int64Value == Int64.max)
        #expect(try number("9223372036854775808").int64Value == nil)
        #expect(try number("-9223372036854775809").int64Value == nil)
        #expect(try number("1e19").uint64Value == 10_000_000_000_000_000_000)
        #expect(try number("1e20").uint64Value == nil)
        #expect(try number("9007199254740993").doubleValue == 9_007_199_254_740_992)
    }

    @Test func numbersAreEqualByValue() throws {
        let one = try #require(JSONNumber(text: "1"))
        for spelling in ["1.0", "10e-1", "0.1e1", "1E0", "100e-2"] {
            let n = try #require(JSONNumber(text: spelling))
            #expect(n == one && n.hashValue == one.hashValue, "\(spelling)")
            #expect(n.text == spelling)
        }
        #expect(JSONNumber(text: "-0") == JSONNumber(0) && JSONNumber(text: "-0.0e5") == JSONNumber(0))
        #expect(JSONNumber(text: "9007199254740993") != JSONNumber(text: "9007199254740992"))
        #expect(JSONNumber(text: "0.1") != JSONNumber(text: "0.10000000000000001"))  // the same double, not the same number
        #expect(JSONNumber(text: "-1") != JSONNumber(1))
        // Literals and initializers: the shortest text that reads back.
        #expect(JSONValue.number(3) == (try JSONValue.parse("3.0")))
        #expect(JSONNumber(45.2).text == "45.2" && JSONNumber(20.0).text == "20" && JSONNumber(-0.0).text == "0")
        #expect(JSONNumber(Int64.min).text == "-9223372036854775808" && JSONNumber(UInt64.max).text == "18446744073709551615")
        #expect(JSONNumber(1e300).text == "1e+300")
        #expect(JSONNumber(text: "1e+300")?.doubleValue == 1e300)
    }

    @Test func numberTextIsValidated() {
        for bad in ["", " 1", "1 ", "+1", "01", "-01", ".5", "1.", "1e", "1e+", "0x10", "1_000", "NaN", "Infinity",
                    "-", "--1", "1e400", "-1e400", "1.7976931348623159e308", "1e123456789012345678"] {
            #expect(JSONNumber(text: bad) == nil, "\(bad)")
        }
        for good in ["0", "-0", "1e-400", "1.7976931348623157e308", "5e-324", "0e00000000000000000001"] {
            #expect(JSONNumber(text: good) != nil, "\(good)")
        }
    }

    // MARK: - RFC 8259 conformance (JSONTestSuite style)

    /// `y_`: must be accepted, and write back as the second string.
    static let accepted: [(String, String)] = [
        ("y_array_empty", "[]"),
        ("y_array_with_spaces", "[ 1 , 2 ]"),
        ("y_array_heterogeneous", #"[null, 1, "1", {}]"#),
        ("y_array_arrays_with_spaces", "[[]   ]"),
        ("y_object_empty", "{}"),
        ("y_object_basic", #"{"asd":"sdf"}"#),
        ("y_object_empty_key", #"{"":0}"#),
        ("y_object_extreme_numbers", #"{ "min": -1.0e+28, "max": 1.0e+28 }"#),
        ("y_object_long_strings", #"{"x":[{"id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}], "id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#),
        ("y_object_escaped_null_in_key", #"{"foo\u0000bar": 42}"#),
        ("y_number_0", "0"),
        ("y_number_negative_zero", "-0"),
        ("y_number_int_with_exp", "20e1"),
        ("y_number_real_capital_e_pos_exp", "1E+2"),
        ("y_number_real_neg_exp", "1e-2"),
        ("y_number_real_fraction_exponent", "123.456e78"),
        ("y_number_after_space", " 4"),
        ("y_number_double_close_to_zero", "-0.000000000000000000000000000000000000000000000000000000000000000000000000000001"),
        ("y_number_underflow", "1e-400"),
        ("y_number_exponent_leading_zeros", "1e007"),
        ("y_string_simple_ascii", #""asd ""#),
        ("y_string_allowed_escapes", #""\"\\\/\b\f\n\r\t""#),
        ("y_string_escaped_control", #""\u0012""#),
        ("y_string_unicode_escape", #""\u0061\u30af\u30EA\u30b9""#),
        ("y_string_surrogate_pair", #""\uD834\uDD1E""#),
        ("y_string_raw_utf8", "\"\u{E9}\u{20AC}\u{1F600}\""),
        ("y_string_u+2028_line_sep", "\"\u{2028}\""),
        ("y_string_del_raw", "\"\u{7F}\""),
        ("y_string_escaped_noncharacter", #""\uFFFF""#),
        ("y_string_nonchar_raw", "\"\u{10FFFF}\""),
        ("y_string_with_del_and_nul_escape", #""a\u0000b""#),
        ("y_structure_lonely_true", "true"),
        ("y_structure_lonely_false", "false"),
        ("y_structure_lonely_null", "null"),
        ("y_structure_lonely_string", #""x""#),
        ("y_structure_whitespace_around", " \t\r\n[ \t\r\n] \t\r\n"),
        ("y_structure_true_in_array", "[true]"),
    ]

    static let acceptedWritten: [String: String] = [
        "y_array_with_spaces": "[1,2]",
        "y_array_heterogeneous": #"[null,1,"1",{}]"#,
        "y_array_arrays_with_spaces": "[[]]",
        "y_object_extreme_numbers": #"{"max":1.0e+28,"min":-1.0e+28}"#,
        "y_object_long_strings": #"{"id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","x":[{"id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}"#,
        "y_object_escaped_null_in_key": #"{"foo\u0000bar":42}"#,
        "y_number_after_space": "4",
        "y_string_allowed_escapes": #""\"\\/\u0008\u000c\n\r\t""#,
        "y_string_escaped_control": #""\u0012""#,
        "y_string_unicode_escape": "\"a\u{30AF}\u{30EA}\u{30B9}\"",
        "y_string_surrogate_pair": "\"\u{1D11E}\"",
        "y_string_escaped_noncharacter": "\"\u{FFFF}\"",
        "y_string_with_del_and_nul_escape": #""a\u0000b""#,
        "y_structure_whitespace_around": "[]",
    ]

    @Test(arguments: accepted)
    func acceptsRFC8259(_ name: String, _ text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(value.jsonString == (Self.acceptedWritten[name] ?? text), "\(name)")
        #expect(try JSONValue.parse(value.jsonString) == value, "\(name): write → read is the same value")
    }

    /// `n_`: must be rejected; the reason contains the second string, at the third (the byte offset).
    static let rejected: [(String, String, String, Int)] = [
        ("n_structure_empty", "", "empty input", 0),
        ("n_structure_whitespace_only", " \n", "unexpected end of input", 2),
        ("n_array_unclosed", "[1", "an array is not closed", 2),
        ("n_array_extra_close", "[1]]", "unexpected ']' after the JSON value", 3),
        ("n_array_missing_comma", "[1 2]", "expected ',' or ']'", 3),
        ("n_array_colon_instead_of_comma", #"["": 1]"#, "expected ',' or ']'", 3),
        ("n_array_double_comma", "[1,,2]", "expected a value", 3),
        ("n_array_trailing_comma", "[1,]", "trailing comma", 2),
        ("n_array_leading_comma", "[,1]", "expected a value", 1),
        ("n_object_trailing_comma", #"{"id":0,}"#, "trailing comma", 7),
        ("n_object_unquoted_key", "{a: 1}", "expected a member name", 1),
        ("n_object_single_quote_key", "{'a':0}", "expected a member name", 1),
        ("n_object_numeric_key", "{1:1}", "expected a member name", 1),
        ("n_object_missing_colon", #"{"a" b}"#, "expected ':'", 5),
        ("n_object_missing_value", #"{"a":}"#, "expected a value", 5),
        ("n_object_comma_instead_of_colon", #"{"x", null}"#, "expected ':'", 4),
        ("n_object_unclosed", #"{"a":1"#, "an object is not closed", 6),
        ("n_object_duplicate_name", #"{"a":"b","a":"c"}"#, "duplicate member name", 9),
        ("n_number_leading_zero", "012", "leading zero", 0),
        ("n_number_negative_leading_zero", "-012", "leading zero", 0),
        ("n_number_plus", "+1", "cannot start with '+'", 0),
        ("n_number_starting_with_dot", ".123", "needs a digit before '.'", 0),
        ("n_number_trailing_dot", "1.", "expected a digit after '.'", 2),
        ("n_number_dot_exponent", "1.e3", "expected a digit after '.'", 2),
        ("n_number_empty_exponent", "1e", "expected a digit in the exponent", 2),
        ("n_number_exponent_sign_only", "1e+", "expected a digit in the exponent", 3),
        ("n_number_minus_only", "-", "expected a digit after '-'", 1),
        ("n_number_minus_space", "- 1", "expected a digit after '-'", 1),
        ("n_number_NaN", "NaN", "NaN and Infinity are not JSON", 0),
        ("n_number_infinity", "[Infinity]", "NaN and Infinity are not JSON", 1),
        ("n_number_minus_infinity", "-Infinity", "expected a digit after '-'", 1),
        ("n_number_hex", "0x1", "unexpected 'x'", 1),
        ("n_number_overflow", "1e400", "number out of range", 0),
        ("n_number_huge_exponent", "1e123456789012345678", "number out of range", 2),
        ("n_number_with_garbage", "[1.5x]", "expected ',' or ']'", 4),
        ("n_string_unterminated", #""abc"#, "unterminated string (it starts at byte 0)", 4),
        ("n_string_single_quotes", "'a'", "strings take double quotes", 0),
        ("n_string_raw_newline", "\"a\nb\"", "control character 0x0A", 2),
        ("n_string_raw_tab", "\"\t\"", "control character 0x09", 1),
        ("n_string_raw_nul", "\"\u{0}\"", "control character 0x00", 1),
        ("n_string_invalid_escape", #""\x41""#, #"invalid escape '\x'"#, 1),
        ("n_string_escaped_apostrophe", #""\'""#, #"invalid escape '\''"#, 1),
        ("n_string_escape_at_end", #""\"#, "unterminated string", 2),
        ("n_string_short_unicode_escape", #""\u12""#, "expected 4 hex digits", 1),
        ("n_string_bad_hex_escape", #""\u12G4""#, "expected 4 hex digits", 1),
        ("n_string_uppercase_U_escape", #""\U0041""#, #"invalid escape '\U'"#, 1),
        ("n_string_lone_high_surrogate", #""\uD800""#, "lone surrogate \\uD800", 1),
        ("n_string_lone_low_surrogate", #"["\uDC00"]"#, "lone surrogate \\uDC00", 2),
        ("n_string_high_then_text", #""\uD83Dx""#, "lone surrogate \\uD83D", 1),
        ("n_string_two_high_surrogates", #""\uD800\uD800""#, "lone surrogate \\uD800", 1),
        ("n_string_reversed_pair", #""\uDE00\uD83D""#, "lone surrogate \\uDE00", 1),
        ("n_literal_truncated_true", "tru", "invalid literal (expected 'true')", 0),
        ("n_literal_capitalized", "True", "expected a value, got 'T'", 0),
        ("n_literal_nul", "nul", "invalid literal (expected 'null')", 0),
        ("n_literal_with_suffix", "nullx", "unexpected 'x' after the JSON value", 4),
        ("n_structure_two_values", "[] []", "unexpected '[' after the JSON value", 3),
        ("n_structure_trailing_garbage", #"{"a":1} x"#, "unexpected 'x'", 8),
        ("n_structure_form_feed_whitespace", "[\u{0C}]", "only space, tab, LF and CR", 1),
        ("n_structure_vertical_tab", "\u{0B}1", "only space, tab, LF and CR", 0),
        ("n_structure_nbsp_whitespace", "\u{A0}1", "expected a value, got byte 0xC2", 0),
        ("n_structure_u+2028_outside_string", "[\u{2028}1]", "expected a value, got byte 0xE2", 1),
        ("n_structure_bom", "\u{FEFF}{}", "byte order mark", 0),
        ("n_structure_comment", "[1] // c", "unexpected '/'", 4),
        ("n_structure_block_comment", "/* c */ 1", "expected a value, got '/'", 0),
        ("n_structure_trailing_nul", "1\u{0}", "unexpected byte 0x00 after the JSON value", 1),
        ("n_structure_angle_bracket", "<.>", "expected a value, got '<'", 0),
    ]

    @Test(arguments: rejected)
    func rejectsWhatRFC8259Does(_ name: String, _ text: String, _ reason: String, _ offset: Int) {
        let error = failure(text)
        #expect(error?.reason.contains(reason) == true, "\(name): \(String(describing: error))")
        #expect(error?.offset == offset, "\(name): \(String(describing: error))")
    }

    @Test func invalidUTF8IsRejected() throws {
        let bad: [(String, [UInt8])] = [
            ("overlong slash", [0xC0, 0xAF]),
            ("overlong 2-byte", [0xC1, 0xBF]),
            ("overlong 3-byte", [0xE0, 0x80, 0xAF]),
            ("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF]),
            ("encoded high surrogate", [0xED, 0xA0, 0x80]),
            ("encoded low surrogate", [0xED, 0xBF, 0xBF]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
            ("lone continuation", [0x80]),
            ("FF", [0xFF]),
            ("truncated 3-byte", [0xE2, 0x82]),
            ("truncated 4-byte", [0xF0, 0x9F, 0x98]),
            ("bad continuation", [0xE2, 0x28, 0xA1]),
        ]
        for (name, sequence) in bad {
            let text = [UInt8(ascii: "\""), UInt8(ascii: "x")] + sequence + [UInt8(ascii: "\"")]
            let error = failure(text)
            #expect(error?.reason.hasPrefix("invalid UTF-8") == true && error?.offset == 2, "\(name): \(String(describing: error))")
        }
        // Invalid UTF-8 in a member name too; and non-ASCII outside strings is just an unexpected byte.
        #expect(failure([0x7B, 0x22, 0xC0, 0x80, 0x22, 0x3A, 0x31, 0x7D])?.reason.hasPrefix("invalid UTF-8") == true)
        #expect(failure([0x5B, 0xFF, 0x5D]) == JSONSyntaxError("expected a value, got byte 0xFF", at: 1))
        // The edges of each range are fine.
        for good: [UInt8] in [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                              [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]] {
            let value = try JSONReader().read([UInt8(ascii: "\"")] + good + [UInt8(ascii: "\"")])
            #expect(value.stringValue.map { Array($0.utf8) } == good)
        }
    }

    @Test func escapesDecodeAfterRawText() throws {
        // The slow path (a string with escapes) keeps the raw text before, between and after them.
        #expect(try JSONValue.parse(#""caf\u00e9 \ud83d\ude00 na\u0131ve \"q\" end""#) == .string("caf\u{E9} \u{1F600} na\u{131}ve \"q\" end"))
        #expect(try JSONValue.parse("\"\u{E9}\\n\u{1F600}\"") == .string("\u{E9}\n\u{1F600}"))
        #expect(try JSONValue.parse(#"{"k\"ey":"v\\"}"#)["k\"ey"] == .string("v\\"))
    }

    // MARK: - The rest of JSONValue

    @Test func codableStillWorks() throws {
        let value = try JSONValue.parse(#"{"id":9007199254740993,"max":18446744073709551615,"f":45.2,"s":"x","a":[true,null]}"#)
        let encoded = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: encoded)
        #expect(decoded == value)
        #expect(decoded["id"]?.int64Value == 9_007_199_254_740_993 && decoded["max"]?.uint64Value == UInt64.max)
    }

    @Test func errorsAreQuellInvalidNamingWhatAndWhere() {
        #expect(throws: QuellError.invalid("invalid JSON: trailing comma before ']' at byte 7")) { try JSONValue.parse(#"{"a":[1,]}"#) }
        #expect(throws: QuellError.invalid("invalid JSON: empty input (expected a JSON value) at byte 0")) { try JSONValue.parse("") }
        #expect(throws: QuellError.invalid("invalid JSON: lone surrogate \\uD800 (a high surrogate needs a \\uDC00-\\uDFFF escape after it; a Swift string cannot hold one alone) at byte 1")) {
            try JSONValue.parse(#""\uD800""#)
        }
    }
}

extension JSONValue {
    fileprivate var arrayCount: Int? { if case .array(let a) = self { return a.count }; return nil }
}
