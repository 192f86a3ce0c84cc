// libFuzzer entry for the JSON reader. Built by scripts/fuzz-json together with
// Sources/Quell/Store/JSONNumber.swift, JSONValue.swift and JSONReader.swift only.
//
// Beyond "no crash" (and no timeout: the reader is linear), every input checks:
//
// 1. Depth limit: reading with maxDepth 4 and with the default 64 agree, except that
//    the small limit may fail with "nesting deeper than 4"; any other error is the same
//    error at the same byte. Error offsets lie within the input.
// 2. Fixed point: for an accepted input, parse → write → parse gives an equal value
//    whose written text is byte for byte the same, and which hashes alike.
// 3. Differential against Foundation's JSONSerialization (a separate parser): whatever
//    we accept, it must accept too, with the same structure, the same strings (same
//    Unicode scalars), the same booleans and nulls, and the same numbers:
//      - when it gives an integer (Int64 or UInt64), ours must be that integer exactly;
//      - when it gives a Double, ours must be bit for bit the same Double (both are
//        correctly rounded);
//      - when it gives an NSDecimalNumber (integers beyond 64 bits, and -2^63), ours
//        must be the same integer text when it has at most 38 digits, else the same
//        Double within a relative 1e-12 (Decimal keeps 38 digits).
//    One known Foundation quirk is allowed for: it drops a raw U+FEFF (bytes EF BB BF)
//    at the start of each unescaped run of a string or member name (right after the
//    opening quote or after an escape), as if it were a byte order mark; an escaped
//    \uFEFF it keeps. We keep them all: they are part of the string. So strings are
//    compared with U+FEFF removed from both sides (ours having at least as many).
//    The other way round is not checked: Foundation accepts much that we reject on
//    purpose (duplicate member names, trailing commas, a byte order mark, nesting
//    beyond 64), which is the point of a strict reader.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let full = read(bytes, maxDepth: JSONReader.defaultMaxDepth)
    let shallow = read(bytes, maxDepth: 4)
    switch (shallow, full) {
    case (.success(let a), .success(let b)):
        check(a == b && a.jsonString == b.jsonString, "maxDepth 4 and 64 read different values")
    case (.success, .failure(let e)):
        fatalError("accepted with maxDepth 4 but not 64: \(e)")
    case (.failure(let e), .success):
        check(e.reason == "nesting deeper than 4", "maxDepth 4 failed with \(e) where 64 succeeded")
    case (.failure(let a), .failure(let b)):
        check(a == b || a.reason == "nesting deeper than 4", "different errors: \(a) vs \(b)")
    }
    if case .failure(let e) = full { check(e.offset >= 0 && e.offset <= size, "error offset outside the input: \(e)") }
    guard case .success(let value) = full else { return 0 }

    // 2. Fixed point.
    let written = value.jsonString
    guard case .success(let again) = read(Array(written.utf8), maxDepth: JSONReader.defaultMaxDepth) else {
        fatalError("our own output does not read back: \(written.prefix(200))")
    }
    check(again == value, "parse → write → parse changed the value: \(written.prefix(200))")
    check(again.jsonString == written, "writing is not a fixed point: \(written.prefix(200))")
    check(again.hashValue == value.hashValue, "equal values hash differently: \(written.prefix(200))")

    // 3. Differential.
    let other: Any
    do {
        other = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    } catch {
        fatalError("we accept what Foundation rejects (\(error)): \(String(decoding: bytes.prefix(200), as: UTF8.self))")
    }
    compare(value, other, path: "$")
    return 0
}

private func read(_ bytes: some Collection<UInt8>, maxDepth: Int) -> Result<JSONValue, JSONSyntaxError> {
    Result { () throws(JSONSyntaxError) -> JSONValue in try JSONReader(maxDepth: maxDepth).read(bytes) }
}

private func check(_ ok: Bool, _ message: @autoclosure () -> String) {
    if !ok { fatalError(message()) }
}

private func compare(_ ours: JSONValue, _ theirs: Any, path: String) {
    switch ours {
    case .null:
        check(theirs is NSNull, "\(path): null vs \(theirs)")
    case .bool(let b):
        guard let n = theirs as? NSNumber, isBool(n) else { fatalError("\(path): \(b) vs \(theirs)") }
        check(n.boolValue == b, "\(path): \(b) vs \(n)")
    case .number(let x):
        guard let n = theirs as? NSNumber, !isBool(n) else { fatalError("\(path): \(x) vs \(theirs)") }
        compareNumber(x, n, path: path)
    case .string(let s):
        guard let t = theirs as? String else { fatalError("\(path): string vs \(theirs)") }
        check(sameString(s, t), "\(path): \(s.debugDescription) vs \(t.debugDescription)")
    case .array(let a):
        guard let t = theirs as? [Any], t.count == a.count else { fatalError("\(path): array of \(a.count) vs \(theirs)") }
        for (k, (x, y)) in zip(a, t).enumerated() { compare(x, y, path: "\(path)[\(k)]") }
    case .object(let o):
        guard let t = theirs as? [String: Any] else { fatalError("\(path): object vs \(theirs)") }
        if t.count == o.count, o.keys.allSatisfy({ t[$0] != nil }) {
            for (k, x) in o { compare(x, t[k]!, path: "\(path).\(k)") }
            return
        }
        // Only the U+FEFF quirk may make the names differ: then names that stay apart
        // without U+FEFF are compared by value, names it merges only for being there.
        var ours: [String: [JSONValue]] = [:]
        for (k, x) in o { ours[withoutBOMs(k), default: []].append(x) }
        var theirs: [String: Any] = [:]
        for (k, y) in t { theirs[withoutBOMs(k)] = y }
        check(ours.count == theirs.count, "\(path): members \(o.keys.sorted()) vs \(t.keys.sorted())")
        for (k, xs) in ours {
            guard let y = theirs[k] else { fatalError("\(path): member \(k.debugDescription) missing in Foundation's") }
            if xs.count == 1 { compare(xs[0], y, path: "\(path).\(k)") }
        }
    }
}

/// Same Unicode scalars, allowing for Foundation dropping some raw U+FEFF.
private func sameString(_ ours: String, _ theirs: String) -> Bool {
    let a = Array(ours.unicodeScalars), b = Array(theirs.unicodeScalars)
    if a == b { return true }
    return a.count >= b.count && a.filter { $0 != "\u{FEFF}" } == b.filter { $0 != "\u{FEFF}" }
}

/// A member name as Foundation reads it: without U+FEFF (see `sameString`).
private func withoutBOMs(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "\u{FEFF}" }))
}

private func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

private func compareNumber(_ x: JSONNumber, _ n: NSNumber, path: String) {
    if let d = n as? NSDecimalNumber {
        let canonical = x.canonical
        if x.isInteger, canonical.digits.count + canonical.exponent <= 38 {
            let digits = String(decoding: canonical.digits, as: UTF8.self) + String(repeating: "0", count: canonical.exponent)
            let text = canonical.digits.isEmpty ? "0" : (canonical.negative ? "-" : "") + digits
            check(d.description == text, "\(path): \(x.text) vs decimal \(d.description)")
        } else {
            let a = x.doubleValue, b = d.doubleValue
            check(a == b || abs(a - b) <= 1e-12 * max(abs(a), abs(b)), "\(path): \(x.text) (\(a)) vs decimal \(d) (\(b))")
        }
        return
    }
    switch String(cString: n.objCType) {
    case "q", "l", "i", "s":
        check(x.int64Value == n.int64Value, "\(path): \(x.text) vs integer \(n.int64Value)")
    case "Q", "L", "I", "S":
        check(x.uint64Value == n.uint64Value, "\(path): \(x.text) vs unsigned \(n.uint64Value)")
    default:
        check(x.doubleValue == n.doubleValue, "\(path): \(x.text) (\(x.doubleValue)) vs double \(n.doubleValue)")
    }
}
