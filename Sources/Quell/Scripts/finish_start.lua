-- finish_start.lua — a worker's finishes, then starts into the slots they
-- freed: finish.lua and start.lua in one call, so a worker whose jobs end
-- one or two at a time pays one call's fixed cost (and one round trip)
-- per refill instead of two, and the counts and index moves of both are
-- merged into one flush.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 F = the number of finish reports,
--       then 5 per report as in finish.lua (id, lease, status, error,
--       progress JSON), then start.lua's arguments from its 4th on: worker
--       id, lease prefix, count, stale-after ms, timeout base / per-item /
--       min / max seconds, queue names in priority order
-- Returns {finish codes, start entries}: one code per report as finish.lua
--   returns them, then one entry per id taken as start.lua returns them.
-- Events: one per job closed, then 'running' per started job.

local reports = tonumber(ARGV[4])
local last = 4 + 5 * reports
return {finish_jobs(ARGV, 5, last), start_jobs(ARGV, last + 1)}
