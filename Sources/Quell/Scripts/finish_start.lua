-- finish_start.lua — finish.lua then start.lua in one call: a worker closes
-- the runs that freed its slots and starts the jobs that fill them.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 n, the number of jobs finishing,
--       5 … 4 + 10n  finish.lua's 10 arguments per job (its ARGV 4…),
--       then start.lua's ARGV 4… (worker id, lease prefix, count, …, queues)
-- One call instead of two pipelined: each function call has a fixed cost
-- in Redis (arguments to Lua, the reply back, the library's begin), about
-- half of what a start of a few jobs costs, and both bodies' deferred
-- writes flush once (the running count a finish lowers and a start raises
-- is one HINCRBY, or none when they cancel out). Finishing first: the jobs
-- finished here cannot be the ones started (those are queued, these not),
-- and nothing start reads (the worker's processing list, the queues, the
-- jobs it takes) is a key finish defers a write to.
-- Returns {finish.lua's reply, start.lua's reply}.
-- Events: those of finish.lua, then those of start.lua.

local n = tonumber(ARGV[4])
local finishing, starting = {ARGV[1], ARGV[2], ARGV[3]}, {ARGV[1], ARGV[2], ARGV[3]}
local last = 4 + 10 * n
for i = 5, last do finishing[i - 1] = ARGV[i] end
for i = last + 1, #ARGV do starting[i - last + 3] = ARGV[i] end
return {body_finish(KEYS, finishing), body_start(KEYS, starting)}
