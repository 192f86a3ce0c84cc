-- confirm_pause.lua — the worker confirms a pausing job has stopped at a
-- checkpoint.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 job id, 5 lease,
--       6 progress JSON at the moment it stopped ('' = keep),
--       7 cursor JSON ('' = keep) — written with the status, so the run
--       after a resume continues from them
-- pausing → paused: no worker, heartbeat or deadline; the attempt is given
-- back; the dedupe key is kept.
-- Returns 'ok' | 'terminal' (already closed) | 'lost' (lease changed) |
--   'cancel' (a cancel came after the pause: confirm the cancel instead) |
--   another status (no pause was requested: the caller finishes it otherwise)
-- Events: one when paused.

local id, lease, progress, cursor = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local j = load(id)
if not j then return 'lost' end
if TERMINAL[j.status] then return 'terminal' end
if j.lease ~= lease then return 'lost' end
if j.status == 'cancelling' then return 'cancel' end
if j.status ~= 'pausing' then return j.status end
local changed = {}
if progress ~= '' then put(changed, 'progress', progress) end
if cursor ~= '' then put(changed, 'cursor', cursor) end
park(j, changed)
return 'ok'
