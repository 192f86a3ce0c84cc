-- confirm_cancel.lua — the worker confirms a cancelled job has stopped.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 job id, 5 lease,
--       6 progress JSON at the moment it stopped ('' = keep)
-- cancelling → cancelled, counters as they were (invariant 5); the dedupe
-- key is released only now that the work has really stopped.
-- Returns 'ok' | 'terminal' (already closed) | 'lost' (lease changed) |
--   'running' (no cancel was requested: the caller must finish it otherwise)
-- Events: one when closed.

local id, lease, progress = ARGV[4], ARGV[5], ARGV[6]
local j = load(id)
if not j then return 'lost' end
if TERMINAL[j.status] then return 'terminal' end
if j.lease ~= lease then return 'lost' end
if j.status ~= 'cancelling' then return j.status end
local changed = {}
if progress ~= '' then put(changed, 'progress', progress) end
close(j, 'cancelled', changed)
return 'ok'
