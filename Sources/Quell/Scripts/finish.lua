-- finish.lua — record how handlers ended (many jobs per call).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap,
--       then 8 per job: id, lease, status, error, progress JSON ('' = keep),
--       version, head, tail — the worker's copy of the job: the version it
--       started at ('' = none) and the finished job packed around its
--       heartbeat_at (head: the fields before it, each followed by the
--       separator; tail: those after it, each preceded by it)
--       status: completed | completed_with_errors | failed | timed_out
-- A job still `running` at that version with this lease is exactly the
-- worker's copy but for heartbeat_at (heartbeats write it without a version:
-- nothing else writes a job without one), so its event is head .. heartbeat
-- .. tail and one HMGET replaces reading the whole job; any other job is
-- read whole.
-- Allowed from running, cancelling or pausing only. A handler that returned
-- normally after a cancel or pause request it never observed ends
-- `completed` (the truth about the work), with cancel_at kept.
-- Returns one code per job, in order:
--   'ok'        closed
--   'terminal'  already terminal (e.g. the reaper closed it): nothing changed
--   'lost'      another run holds the job now (lease changed): nothing changed
--   'invalid'   not a finishing status
-- Events: one per job closed.

local FINISHING = {completed = true, completed_with_errors = true, failed = true, timed_out = true}

-- Closes one job from the worker's copy; false when the job is not that copy.
local function finish_known(id, lease, status, changed, known, head, tail)
  if known == '' then return false end
  local v = redis.call('HMGET', k_job(id), 'status', 'lease', 'version', 'tenant', 'key', 'heartbeat_at')
  if v[1] ~= 'running' or v[2] ~= lease or v[3] ~= known or not v[4] then return false end
  local j = setmetatable({id = id, status = 'running', version = known, tenant = v[4], key = v[5] or ''}, EMPTY)
  close(j, status, changed, head .. (v[6] or '') .. tail)
  return true
end

local out = {}
for i = 4, #ARGV, 8 do
  local id, lease, status, progress = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 4]
  local changed = {'error', ARGV[i + 3]}
  if progress ~= '' then put(changed, 'progress', progress) end
  if not FINISHING[status] then
    out[#out + 1] = 'invalid'
  elseif finish_known(id, lease, status, changed, ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]) then
    out[#out + 1] = 'ok'
  else
    local j = load(id)
    if not j then
      out[#out + 1] = 'lost'
    elseif TERMINAL[j.status] then
      out[#out + 1] = 'terminal'
    elseif j.lease ~= lease or not RUNNING[j.status] then
      out[#out + 1] = 'lost'
    else
      close(j, status, changed)
      out[#out + 1] = 'ok'
    end
  end
end
return out
