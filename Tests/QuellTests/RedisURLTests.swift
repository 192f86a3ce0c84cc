import Testing
@testable import Quell

@Suite("Redis URL parsing")
struct RedisURLTests {
    @Test func defaultsForHostOnly() throws {
        let u = try RedisURL("redis://localhost")
        #expect(u.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(u.database == 0)
        #expect(u.password == nil && u.username == nil)
    }

    @Test func fullTCPForm() throws {
        let u = try RedisURL("redis://alice:s%40cret@10.0.0.5:6380/3")
        #expect(u.endpoint == .tcp(host: "10.0.0.5", port: 6380))
        #expect(u.username == "alice")
        #expect(u.password == "s@cret")
        #expect(u.database == 3)
        #expect(u.description == "redis://alice:***@10.0.0.5:6380/3")
    }

    @Test func passwordOnlyForms() throws {
        #expect(try RedisURL("redis://:pw@h:1/0").password == "pw")
        #expect(try RedisURL("redis://:pw@h:1/0").username == nil)
        #expect(try RedisURL("redis://pw@h").password == "pw")
    }

    @Test func ipv6Host() throws {
        let u = try RedisURL("redis://[::1]:7000/2")
        #expect(u.endpoint == .tcp(host: "::1", port: 7000))
        #expect(u.description == "redis://[::1]:7000/2")
    }

    @Test func unixSocket() throws {
        let u = try RedisURL("unix:///var/run/redis/redis.sock?db=4&password=x")
        #expect(u.endpoint == .unix(path: "/var/run/redis/redis.sock"))
        #expect(u.database == 4)
        #expect(u.password == "x")
        #expect(u.description == "unix:///var/run/redis/redis.sock?db=4&password=***")
    }

    @Test(arguments: [
        ("", "empty"),
        ("localhost:6379", "scheme"),
        ("http://localhost", "scheme"),
        ("redis://", "missing host"),
        ("redis://:6379", "missing host"),
        ("redis://host:port", "port must be a number"),
        ("redis://host:0", "port must be a number"),
        ("redis://host:70000", "port must be a number"),
        ("redis://host:6379/x", "database must be"),
        ("redis://host:6379/-1", "database must be"),
        ("redis://host/0?timeout=1", "query strings"),
        ("redis://[::1:6379", "IPv6"),
        ("redis://a%zz@host", "percent escape"),
        ("unix://relative.sock", "absolute socket path"),
        ("unix:///tmp/r.sock?db=two", "db must be"),
        ("unix:///tmp/r.sock?color=red", "unknown query item"),
    ])
    func rejectsBadURLs(input: String, expected: String) {
        do {
            let u = try RedisURL(input)
            Issue.record("accepted '\(input)' as \(u)")
        } catch {
            guard case .invalidURL(let message) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(message.contains(expected), "message '\(message)' should mention '\(expected)'")
        }
    }
}
