-- cleanup.lua — close every stuck job now (`quell jobs cleanup`,
-- `POST /v1/cleanup`): the "cancel stuck sync" script users otherwise write
-- by hand. Unlike the reaper it gives an overdue job no grace: past its
-- deadline or with a stale heartbeat is enough.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 stale-after ms, 5 tenant ('' = all)
-- Returns {{action, id}, …} as reap.lua does; nothing while verdicts are
--   held (within stale-after of a Redis restart or a process regaining it).
-- Events: one per job resolved.

local stale, tenant = tonumber(ARGV[4]), ARGV[5]
if verdicts_held(stale) then return {} end
local out = {}
for _, id in ipairs(redis.call('ZRANGE', K_ACTIVE, 0, -1)) do
  local j = load(id)
  if not j or not RUNNING[j.status] then
    defer('ZREM', K_ACTIVE, id)
  elseif tenant == '' or j.tenant == tenant then
    local why = stuck_reason(j, stale)
    if why then out[#out + 1] = {resolve_stuck(j, why), id} end
  end
end
if tenant == '' then
  for _, e in ipairs(bury_dead_workers(1000)) do out[#out + 1] = e end
end
return out
