-- reap.lua — the reaper's sweep: close or requeue stuck jobs, release dead
-- workers' claims. Safe when many processes run it at once: each call is
-- atomic and only touches what is due.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 stale-after ms, 5 limit per sweep,
--       then the ids of the jobs the calling process is running itself
--       (never judged here: its own heartbeater speaks for them)
-- Nothing is judged while verdicts are held (lib.lua verdicts_held: within
-- stale-after of a Redis restart or a process regaining Redis).
-- Active jobs whose reap time has come (heartbeat stale, or deadline passed
-- by the stale grace) are resolved (invariants 3 and 6): cancelling →
-- cancelled; pausing → paused; past deadline → timed_out; stale heartbeat →
-- requeued while attempts remain, else failed. Paused jobs are not active:
-- never reaped. A job whose reap time was out of date is
-- re-scored. Expired workers' processing lists go back to their queues.
-- Returns {{action, id}, …} with action requeued | failed | timed_out |
--   cancelled | paused | worker_gone (id = the worker).
-- Events: one per job resolved.

local stale, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
if verdicts_held(stale) then
  -- No verdicts; but a worker that deregistered itself (score 0) is gone for sure.
  return bury_dead_workers(limit, 0)
end
local mine = {}
for i = 6, #ARGV do mine[ARGV[i]] = true end
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', NOW, 'LIMIT', 0, limit)) do
  local j = load(id)
  if mine[id] then
    -- running in the caller's own process: left for its heartbeat
  elseif not j or not RUNNING[j.status] then
    defer('ZREM', K_ACTIVE, id)
  else
    local why = stuck_reason(j, stale)
    if why then
      out[#out + 1] = {resolve_stuck(j, why), id}
    else
      defer('ZADD', K_ACTIVE, reap_at(j, stale), id)
    end
  end
end
for _, e in ipairs(bury_dead_workers(limit)) do out[#out + 1] = e end
return out
