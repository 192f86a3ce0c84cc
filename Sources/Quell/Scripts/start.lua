-- start.lua — a worker takes up to `count` queued jobs and starts them.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 worker id, 5 lease prefix,
--       6 count, 7 stale-after ms, 8-11 timeout base / per-item / min / max
--       seconds, 12… queue names in priority order
-- Takes first the ids this worker claimed with a blocking pop (its
-- processing list, all of them), then pops from the queues in order. An id
-- whose job is not `queued` any more (cancelled while queued, deleted) is
-- dropped: revoked jobs never start, however they were fetched (invariant 4).
-- Returns one entry per id taken:
--   {'job', lease, <packed job>, params, cursor}   started: status running;
--       a job with a saved cursor (a retry, a recovery) keeps its progress and
--       counters as saved with that cursor, and the handler continues from it
--   {'skip', id, reason}                              not started
-- Events: 'running' per started job.

return start_jobs(ARGV, 4)
