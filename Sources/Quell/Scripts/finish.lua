-- finish.lua — record how handlers ended (many jobs per call).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap,
--       then 5 per job: id, lease, status, error, progress JSON ('' = keep)
--       status: completed | completed_with_errors | failed | timed_out
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
local out = {}
for i = 4, #ARGV, 5 do
  local id, lease, status, err, progress = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local j = load(id)
  if not FINISHING[status] then
    out[#out + 1] = 'invalid'
  elseif not j then
    out[#out + 1] = 'lost'
  elseif TERMINAL[j.status] then
    out[#out + 1] = 'terminal'
  elseif j.lease ~= lease or not RUNNING[j.status] then
    out[#out + 1] = 'lost'
  else
    local changed = {'error', err}
    if progress ~= '' then put(changed, 'progress', progress) end
    close(j, status, changed)
    out[#out + 1] = 'ok'
  end
end
return out
