// libFuzzer entry for the HTTP request parser. Built by scripts/fuzz-http together with
// Sources/QuellHTTP/HTTPMessage.swift and Sources/QuellHTTP/HTTPRequestParser.swift only.
//
// Beyond "no crash", it checks that the parser's answer does not depend on how the
// bytes are cut into appends: the whole input, the input cut at a point chosen by its
// first byte, and (for short inputs) one byte at a time must give the same requests and
// the same final error.

/// Small limits so the fuzzer reaches every limit path with short inputs.
private let smallLimits = HTTPParserLimits(maxHeaderBytes: 300, maxHeaderCount: 6, maxBodyBytes: 200)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let whole = outcomes(bytes, limits: smallLimits, cuts: [])
    if size > 1 {
        let cut = 1 + Int(bytes[0]) * (size - 1) / 256
        let split = outcomes(bytes, limits: smallLimits, cuts: [cut])
        if split != whole { fatalError("cut at \(cut) changed the result:\n\(whole)\nvs\n\(split)") }
    }
    if size <= 128 {
        let byByte = outcomes(bytes, limits: smallLimits, cuts: Array(1..<max(size, 1)))
        if byByte != whole { fatalError("byte-at-a-time changed the result:\n\(whole)\nvs\n\(byByte)") }
    }
    _ = outcomes(bytes, limits: HTTPParserLimits(), cuts: [])
    return 0
}

/// Feeds `bytes` in pieces ending at `cuts` and records every request and the error, if any.
private func outcomes(_ bytes: UnsafeBufferPointer<UInt8>, limits: HTTPParserLimits, cuts: [Int]) -> [String] {
    var parser = HTTPRequestParser(limits: limits)
    var out: [String] = []
    var from = 0
    for end in cuts + [bytes.count] where end >= from {
        parser.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[from..<end])))
        from = end
        if drain(&parser, into: &out) { break }
    }
    return out
}

/// Parses everything buffered. True once the parser has failed.
private func drain(_ parser: inout HTTPRequestParser, into out: inout [String]) -> Bool {
    while true {
        switch parser.next() {
        case .request(let r):
            precondition(r.body.count <= parser.limits.maxBodyBytes, "body over the limit")
            out.append(
                "\(r.method) \(r.target) \(r.version) path=\(r.path) raw=\(r.rawPath) q=\(r.queryItems.map { "\($0.name)=\($0.value)" }) "
                    + "h=\(r.headers.fields.map { "\($0.name):\($0.value)" }) body=\(r.body) ka=\(r.keepAlive)")
        case .expectContinue:
            continue
        case .needMoreData:
            return false
        case .error(let e):
            out.append("error \(e.status.code) \(e.code)")
            return true
        }
    }
}
