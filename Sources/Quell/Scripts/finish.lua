-- finish.lua — record how handlers ended (many jobs per call).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap,
--       then 10 per job: id, lease, status, error, progress JSON ('' = keep),
--       version, head, tail, tenant, key — the worker's copy of the job: the
--       version it started at ('' = none), the finished job packed around
--       its heartbeat_at (head: the fields before it, each followed by the
--       separator; tail: those after it, each preceded by it), and its
--       tenant and dedupe key (which never change)
--       status: completed | completed_with_errors | failed | timed_out
--       error: the text to store, or the separator alone (0x1f, which no
--       stored text holds): no error, and the worker's copy had none, so
--       nothing to write (a known job only; any other job gets '')
-- A job still at that version is exactly the worker's copy but for
-- heartbeat_at: every other change (a cancel, a pause, the reaper's verdict,
-- another run's start) bumps the version, and heartbeats write heartbeat_at
-- without one. So its event is head .. heartbeat .. tail, and one HMGET of
-- two fields replaces reading the whole job; any other job is read whole.
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
-- The copy was `running` with this lease at `known` (start made it so).
local function finish_known(id, status, changed, known, head, tail, tenant, key)
  if known == '' or tenant == '' then return false end
  local v = redis.call('HMGET', k_job(id), 'version', 'heartbeat_at')
  if v[1] ~= known then return false end
  local j = setmetatable({id = id, status = 'running', version = known, tenant = tenant, key = key}, EMPTY)
  close(j, status, changed, head .. (v[2] or '') .. tail)
  return true
end

local out = {}
for i = 4, #ARGV, 10 do
  local id, lease, status, progress = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 4]
  local err = ARGV[i + 3]
  local changed = {}
  if err ~= SEP then put(changed, 'error', err) end
  if progress ~= '' then put(changed, 'progress', progress) end
  if not FINISHING[status] then
    out[#out + 1] = 'invalid'
  elseif finish_known(id, status, changed, ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]) then
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
      if err == SEP and j.error ~= '' then put(changed, 'error', '') end
      close(j, status, changed)
      out[#out + 1] = 'ok'
    end
  end
end
return out
