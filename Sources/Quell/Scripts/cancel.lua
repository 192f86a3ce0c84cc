-- cancel.lua — a user (or operator) asks a job to stop.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 revoked-set ttl ms,
--       5 job id, 6 tenant ('' = any tenant: admin), 7 reason
-- queued, paused → cancelled now; it never starts (again) (invariant 4)
-- running, pausing → cancelling; pushed on the cancel channel so the owning worker
--              stops at its next checkpoint (the heartbeat reply is the
--              fallback if the push is lost)
-- cancelling, cancelled → unchanged: repeating a cancel answers the same
-- other terminal → not_cancellable
-- Returns {code, {<packed job>, params}} with code cancelled | cancelling |
--   not_cancellable, or {'not_found'} (also for another tenant's job).
-- Events: one when the status changes. Publishes the id on the cancel channel.

local ttl, id, tenant, reason = tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local j, err = load(id)
if err then return redis.error_reply(err) end
if not j or (tenant ~= '' and j.tenant ~= tenant) then return {'not_found'} end
if j.status == 'cancelling' or j.status == 'cancelled' then return {j.status, reply_job(j)} end
if TERMINAL[j.status] then return {'not_cancellable', reply_job(j)} end

redis.call('ZREMRANGEBYSCORE', K_REVOKED, '-inf', NOW)
redis.call('ZADD', K_REVOKED, NOW + ttl, id)
local changed = {'cancel_at', ARGV[2], 'cancel_reason', reason}
if j.status == 'queued' or j.status == 'paused' then
  -- Out of its queue (scanned from the newest end, where fresh jobs are) or
  -- out of the retry schedule; a copy a worker already claimed is skipped at
  -- start. A paused job is in neither: it just ends.
  redis.call('LREM', k_queue(j.queue), 1, id)
  redis.call('ZREM', k_scheduled(j.queue), id)
  close(j, 'cancelled', changed)
  return {'cancelled', reply_job(j)}
end
set_status(j, changed, 'cancelling')
emit(j, changed)
redis.call('PUBLISH', K_CANCEL, id)
return {'cancelling', reply_job(j)}
