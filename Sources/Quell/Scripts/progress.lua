-- progress.lua — record handlers' progress (coalesced: many jobs per call).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 stale-after ms,
--       5-8 timeout base / per-item / min / max seconds,
--       then 5 per job: id, lease, progress JSON, total ('' = unchanged),
--       cursor JSON ('' = unchanged) — written in the same HSET as the
--       progress, so a saved cursor and its counters never disagree
-- Only a running job is written: progress never turns `cancelling`, `pausing`
-- or `paused` back into `running` (invariant 1). A new total recomputes the
-- adaptive deadline.
-- Returns one entry per job, in order:
--   {'ok', deadline_at}   written
--   {'cancel'}            a cancel was requested: stop at the next checkpoint
--   {'pause'}             a pause was requested: stop at the next checkpoint
--                         (confirm_pause.lua then writes progress and cursor)
--   {'lost'}              not this worker's run any more (lease changed,
--                         job terminal, paused or gone): stop, write nothing
-- Events: one per job written (same status, new progress and version).

local stale = tonumber(ARGV[4])
local tbase, tper, tmin, tmax = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local out = {}
for i = 9, #ARGV, 5 do
  local id, lease, progress, total, cursor = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local j = load(id)
  if not j or j.lease ~= lease or TERMINAL[j.status] then
    out[#out + 1] = {'lost'}
  elseif j.status == 'cancelling' then
    out[#out + 1] = {'cancel'}
  elseif j.status == 'pausing' then
    out[#out + 1] = {'pause'}
  elseif j.status ~= 'running' then
    out[#out + 1] = {'lost'}
  else
    local changed = {'progress', progress, 'heartbeat_at', ARGV[2]}
    if cursor ~= '' then put(changed, 'cursor', cursor) end
    if total ~= '' and total ~= j.total then
      local seconds = allowed_seconds(j, total, tbase, tper, tmin, tmax)
      put(changed, 'total', total)
      put(changed, 'deadline_at', int(tonumber(j.started_at) + math.floor(seconds * 1000)))  -- expected follows (lib.lua)
    end
    emit(j, changed)
    defer('ZADD', K_ACTIVE, reap_at(j, stale), id)
    out[#out + 1] = {'ok', j.deadline_at}
  end
end
return out
