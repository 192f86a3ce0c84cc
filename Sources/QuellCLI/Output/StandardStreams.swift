import Glibc

/// Writes text straight to a descriptor (no stdio buffering: stdout may be a
/// pipe that a test or a supervisor reads line by line).
func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// `value` with `digits` decimals (String(format:) lives in full Foundation).
func decimal(_ value: Double, digits: Int) -> String {
    let scale = [1.0, 10, 100, 1000][min(digits, 3)]
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    var fraction = String(abs(scaled) % Int(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return digits == 0 ? String(whole) : "\(scaled < 0 && whole == 0 ? "-" : "")\(whole).\(fraction)"
}
