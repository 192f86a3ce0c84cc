-- liveness.lua — run on every (re)connect of a process's store connection,
-- before anything else is sent on it: records that Redis restarted, or that
-- this process regained Redis after losing it, so that for one stale window
-- no stuck verdicts are given (lib.lua verdicts_held; invariant 6). During an
-- outage nobody could heartbeat: an old heartbeat then says nothing about
-- whether its worker is alive.
-- Standalone: lib.lua is NOT prepended (it runs once per connect).
--
-- KEYS: none; the key is built from ARGV[1] like every other ({prefix}:liveness)
-- ARGV: 1 base, 2 now ms, 3 Redis run_id ('' when INFO is not allowed),
--       4 '1' when this connection replaces one that was lost, else '0'
-- Writes: hash {prefix}:liveness — run_id (the Redis that wrote it),
--   resumed (ms: when verdicts may be given again, minus stale-after)
-- Returns 1 when it recorded a resume (a reconnect, or a run_id other than the
--   recorded one), else 0. The first connect ever (no record) only records the run_id.
-- Events: none.

local key = ARGV[1] .. ':liveness'
local run_id, reconnected = ARGV[3], ARGV[4] == '1'
local known = redis.call('HGET', key, 'run_id')
if reconnected or (run_id ~= '' and known and known ~= run_id) then
  redis.call('HSET', key, 'run_id', run_id, 'resumed', ARGV[2])
  return 1
end
-- No record yet: a fresh Redis (or prefix) with nothing to misjudge; remember
-- which Redis this is, so that a restart is recognised later.
if not known and run_id ~= '' then redis.call('HSET', key, 'run_id', run_id) end
return 0
