-- heartbeat.lua — one call per interval for all of a worker's running jobs,
-- plus the worker's own registration.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap (unused), 4 stale-after ms,
--       5 worker id, 6 queues (comma-separated), 7 slots, 8 busy, 9 started-at ms,
--       then 2 per job: id, lease
-- Not a status or progress change: no version bump, no event (invariant 7).
-- Returns one code per job, in order:
--   'ok'        carry on
--   'cancel'    a cancel was requested (covers a lost pub/sub push)
--   'pause'     a pause was requested (likewise)
--   'deadline'  past its deadline: stop it as timed_out
--   'lost'      not this worker's run any more: stop, write nothing

local stale = tonumber(ARGV[4])
local worker = ARGV[5]
redis.call('ZADD', K_WORKERS, NOW + stale, worker)
redis.call('HSET', k_worker(worker), 'id', worker, 'queues', ARGV[6], 'slots', ARGV[7],
  'busy', ARGV[8], 'started_at', ARGV[9], 'last_beat', ARGV[2])
local out = {}
for i = 10, #ARGV, 2 do
  local id, lease = ARGV[i], ARGV[i + 1]
  local v = redis.call('HMGET', k_job(id), 'status', 'lease', 'deadline_at')
  local status, deadline = v[1], tonumber(v[3])
  if not status or v[2] ~= lease or not RUNNING[status] then
    out[#out + 1] = 'lost'
  else
    redis.call('HSET', k_job(id), 'heartbeat_at', ARGV[2])
    defer('ZADD', K_ACTIVE, reap_score(NOW, deadline, stale), id)
    if status == 'cancelling' then
      out[#out + 1] = 'cancel'
    elseif status == 'pausing' then
      out[#out + 1] = 'pause'
    elseif deadline and NOW > deadline then
      out[#out + 1] = 'deadline'
    else
      out[#out + 1] = 'ok'
    end
  end
end
return out
