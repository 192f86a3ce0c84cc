-- retry.lua — a running job goes back to its queue: a failed attempt that
-- has attempts left (after a delay), or a job interrupted by worker shutdown
-- (at once, at the front of its queue, without spending an attempt).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 job id, 5 lease, 6 delay ms,
--       7 error text, 8 progress JSON ('' = keep), 9 refund ('1' = the attempt
--       does not count), 10 cursor JSON ('' = keep): the next attempt resumes from it
-- Only from running: a job being cancelled (paused) is confirmed cancelled
-- (paused) instead.
-- Returns 'ok' | 'cancel' (cancelling: confirm instead) | 'pause' (pausing:
--   confirm the pause instead) | 'terminal' | 'lost'
-- Events: one (status queued, attempt as it will count).

local id, lease, delay, err, progress, refund, cursor = ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9], ARGV[10] or ''
local j = load(id)
if not j then return 'lost' end
if TERMINAL[j.status] then return 'terminal' end
if j.lease ~= lease then return 'lost' end
if j.status == 'cancelling' then return 'cancel' end
if j.status == 'pausing' then return 'pause' end
if j.status ~= 'running' then return 'lost' end
local changed = {'worker', '', 'lease', '', 'heartbeat_at', '', 'deadline_at', '', 'error', err}
if progress ~= '' then put(changed, 'progress', progress) end
if cursor ~= '' then put(changed, 'cursor', cursor) end
if refund == '1' then put(changed, 'attempt', int(math.max(0, tonumber(j.attempt) - 1))) end
set_status(j, changed, 'queued')
redis.call('ZREM', K_ACTIVE, id)
if delay > 0 then
  redis.call('ZADD', k_scheduled(j.queue), NOW + delay, id)
else
  redis.call('RPUSH', k_queue(j.queue), id)
end
emit(j, changed)
return 'ok'
