-- pause.lua — a user (or operator) asks a job to pause: it stops where it
-- is, keeping its cursor, counters and dedupe key, until resumed.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 job id, 5 tenant ('' = any tenant: admin)
-- queued    → paused now: out of its queue and the retry schedule (a copy a
--             worker already claimed is skipped at start)
-- running   → pausing; pushed on the pause channel so the owning worker
--             stops at its next checkpoint and confirms (confirm_pause.lua)
--             with its cursor; the heartbeat reply is the fallback if the
--             push is lost
-- pausing, paused → unchanged: repeating a pause answers the same
-- cancelling, terminal → not_pausable
-- Returns {code, {<packed job>, params}} with code paused | pausing |
--   not_pausable, or {'not_found'} (also for another tenant's job).
-- Events: one when the status changes. Publishes the id on the pause channel.

local id, tenant = ARGV[4], ARGV[5]
local j, err = load(id)
if err then return redis.error_reply(err) end
if not j or (tenant ~= '' and j.tenant ~= tenant) then return {'not_found'} end
if j.status == 'pausing' or j.status == 'paused' then return {j.status, reply_job(j)} end
if j.status == 'queued' then
  redis.call('LREM', k_queue(j.queue), 1, id)
  redis.call('ZREM', k_scheduled(j.queue), id)
  park(j, {})
  return {'paused', reply_job(j)}
end
if j.status ~= 'running' then return {'not_pausable', reply_job(j)} end
local changed = {}
set_status(j, changed, 'pausing')
emit(j, changed)
redis.call('PUBLISH', K_PAUSE, id)
return {'pausing', reply_job(j)}
