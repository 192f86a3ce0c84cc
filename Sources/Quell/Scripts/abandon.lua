-- abandon.lua — the hard stop: the worker gives up on a handler that did not
-- reach a checkpoint within the cancel grace after it was told to stop.
-- Swift cannot kill the task; this closes the job without it, and the
-- task's later writes are refused (the job is terminal or paused, and its
-- lease is gone).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 job id, 5 lease, 6 grace seconds
--       (for the error text), 7 progress JSON ('' = keep), 8 cursor JSON
--       ('' = keep; for a pause)
-- What it becomes follows the status in Redis, not the worker's reason (a
-- cancel may have come after a pause):
-- cancelling → cancelled, cancel reason `forced` (the reason asked for is
--              named in `error`); the dedupe key is released
-- running    → timed_out (it was stopped for its deadline), cancel reason `forced`
-- pausing    → paused, from the last cursor (park in lib.lua)
-- Returns 'cancelled' | 'timed_out' | 'paused' | 'terminal' | 'lost'
-- Events: one. Counts the forced stop in `finished` (`forced`).

local id, lease, grace, progress, cursor = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local j = load(id)
if not j then return 'lost' end
if TERMINAL[j.status] then return 'terminal' end
if j.lease ~= lease or not RUNNING[j.status] then return 'lost' end
FINISHED.forced = (FINISHED.forced or 0) + 1
local changed = {}
if progress ~= '' then put(changed, 'progress', progress) end
local note = 'forced: the handler did not stop within ' .. grace .. 's'
if j.status == 'pausing' then
  if cursor ~= '' then put(changed, 'cursor', cursor) end
  put(changed, 'error', note .. ' of the pause')
  park(j, changed)
  return 'paused'
end
if j.cancel_at == '' then put(changed, 'cancel_at', ARGV[2]) end
put(changed, 'cancel_reason', 'forced')
if j.status == 'cancelling' then
  put(changed, 'error', note .. ' of the cancel (' .. (j.cancel_reason ~= '' and j.cancel_reason or 'user') .. ')')
  close(j, 'cancelled', changed)
  return 'cancelled'
end
put(changed, 'error', note .. ' of its deadline (' .. expected(j) .. 's allowed)')
close(j, 'timed_out', changed)
return 'timed_out'
