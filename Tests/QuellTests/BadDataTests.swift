import Foundation
import QuellTestSupport
import Testing
@testable import Quell

/// Data Quell did not write (missing fields, bad JSON, unknown status) gives
/// clear errors; nothing crashes, and workers keep going past it.
@Suite("Bad data")
struct BadDataTests {
    @Test func decoderNamesWhatIsWrong() {
        let good: [String: String] = ["id": "01J0000000000000000000000A", "type": "t", "queue": "default", "tenant": "a",
                                      "status": "queued", "attempt": "0", "max_attempts": "3", "version": "1", "created_at": "1000"]
        #expect((try? Job(fields: good)) != nil)
        let cases: [([String: String], String)] = [
            (good.filter { $0.key != "status" }, "no 'status'"),
            (good.merging(["status": "exploded"]) { $1 }, "unknown status 'exploded'"),
            (good.merging(["version": "v1"]) { $1 }, "'version' is not a number"),
            (good.merging(["created_at": "yesterday"]) { $1 }, "'created_at' is not a time"),
            (good.merging(["progress": "{not json"]) { $1 }, "progress is not a JSON object"),
        ]
        for (fields, expected) in cases {
            do {
                _ = try Job(fields: fields)
                Issue.record("decoded bad fields \(fields)")
            } catch {
                guard case QuellError.corrupt(let message)? = error as? QuellError else { Issue.record("got \(error)"); continue }
                #expect(message.contains(expected), "'\(message)' should contain '\(expected)'")
            }
        }
    }

    @Test func aHashDecodesFromItsSpecOrFromFieldsOfItsOwn() throws {
        let id = "01J0000000000000000000000A"
        // As enqueue.lua stores it: what never changes in `spec`, no id field.
        let spec = ["t", "q", "k", "3", "1000", #"{"h":"v"}"#].joined(separator: "\u{1F}")
        let stored = ["spec": spec, "tenant": "a", "timeout": "7.5", "params": "{}", "status": "queued", "attempt": "0", "version": "1"]
        let job = try Job(fields: stored, id: id)
        #expect(job.id == id && job.type == "t" && job.queue == "q" && job.tenant == "a" && job.key == "k")
        #expect(job.maxAttempts == 3 && job.createdAt == Date(timeIntervalSince1970: 1) && job.timeoutSeconds == 7.5)
        #expect(job.headers == ["h": "v"] && job.params == "{}" && job.status == .queued)
        // A field of its own wins over the spec's (an older Quell's job, or one moved by hand).
        #expect(try Job(fields: stored.merging(["queue": "other"]) { $1 }, id: id).queue == "other")
        #expect {
            try Job(fields: stored.merging(["spec": "t\u{1F}q"]) { $1 }, id: id)
        } throws: { error in
            guard case QuellError.corrupt(let message)? = error as? QuellError else { return false }
            return message.contains("spec of 2 fields")
        }
    }

    @Test func aPackedJobDecodesByPositionAndAWrongFieldCountIsNamed() throws {
        var values = Job.fieldNames.map { _ in "" }
        for (name, value) in ["id": "01J0000000000000000000000A", "type": "t", "queue": "q", "tenant": "a", "status": "running",
                              "attempt": "1", "max_attempts": "3", "version": "2", "created_at": "1000", "error": "é\tx"] {
            values[Job.fieldNames.firstIndex(of: name)!] = value
        }
        let job = try Job(packed: values.joined(separator: "\u{1F}"), params: "{}")
        #expect(job.id == "01J0000000000000000000000A" && job.queue == "q" && job.status == .running && job.version == 2)
        #expect(job.error == "é\tx" && job.key == nil && job.params == "{}" && job.resumes == 0)
        for (packed, expected) in [(values.dropLast().joined(separator: "\u{1F}"), "has 25 fields"),
                                   ((values + ["extra"]).joined(separator: "\u{1F}"), "has more than 26 fields"),
                                   ("", "has 1 fields")] {
            #expect {
                try Job(packed: packed)
            } throws: { error in
                guard case QuellError.corrupt(let message)? = error as? QuellError else { return false }
                return message.contains(expected)
            }
        }
    }

    @Test func corruptJobsAreSkippedByStartAndNamedByReads() async throws {
        let store = makeStore("bad")
        let good = try await store.enqueue(EnqueueRequest(type: "t"))
        let broken = JobID.make()
        // A job hash missing most fields, and one with an unknown status, pushed onto the queue.
        _ = try await store.redis.send(RedisCommand("HSET", store.keys.job(broken), "id", broken, "type", "t"))
        let odd = JobID.make()
        _ = try await store.redis.send(RedisCommand("HSET", store.keys.job(odd), "id", odd, "type", "t", "queue", "default",
                                                    "tenant", "default", "status", "exploded", "version", "1"))
        _ = try await store.redis.send(RedisCommand("LPUSH", store.keys.queue("default"), broken, odd, "not-a-job"))
        let result = try await store.start(worker: "w", leasePrefix: "w#", queues: ["default"], count: 10)
        #expect(result.started.map(\.job.id) == [good.id])
        #expect(Set(result.skipped.map(\.id)) == [broken, odd, "not-a-job"])
        #expect(result.skipped.first { $0.id == odd }?.reason.contains("CORRUPT") == true)

        await #expect(throws: QuellError.self) { _ = try await store.job(id: odd, tenant: nil) }
        do {
            _ = try await store.cancel(id: odd, tenant: nil)
            Issue.record("cancelled a corrupt job")
        } catch {
            guard case .corrupt(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains(odd))
        }
    }

    @Test func separatorInHandlerTextCannotCorruptAPackedJob() async throws {
        let store = makeStore("bad-separator")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        _ = try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .failed, error: "a\u{1F}b\u{0}c\nd",
                                                 progress: JobProgress(stage: "x\u{1F}y"))])
        let final = try await store.job(id: job.id, tenant: nil)
        #expect(final.error == "a b c\nd" && final.progress?.stage == "x\u{1F}y")
        let events = try await store.allEvents(of: job.id)
        #expect(events.last?.job.error == "a b c\nd" && events.last?.job.progress?.stage == "x\u{1F}y")
    }

    @Test func nonJSONParamsAreRefusedAtTheDoor() throws {
        #expect(throws: QuellError.self) { _ = try JSONValue.parse("{not json") }
        #expect(throws: QuellError.self) { _ = try JSONValue.parse("") }
        #expect(try JSONValue.parse(#"{"a":[1,true,null,"x"]}"#).jsonString == #"{"a":[1,true,null,"x"]}"#)
    }
}
