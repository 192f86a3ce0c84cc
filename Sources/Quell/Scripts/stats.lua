-- stats.lua — counts per status, queue depths, workers: O(1) per status and
-- queue, whatever the number of tenants or jobs (counts are kept in the
-- counts hash by every transition; nothing scans jobs or tenants).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap (unused), 4 tenant ('' = all tenants)
-- Returns {counts, queues, workers, finished}:
--   counts  {status, n, …} for the 10 statuses (jobs stored now, per tenant)
--   finished {name, n, …} jobs that ever reached each terminal status, all
--            tenants (a counter: never decreases, unlike counts after retention),
--            and the pauses, resumes and forced stops ever
--            (`pauses`, `resumes`, `forced`)
--   queues  {{name, depth, scheduled}, …}
--   workers {{expires_ms, <registration fields>}, …}

-- Counts come from the counts hash (see lib.lua's count). A store written
-- before the hash existed (no 'built' field) gets it built once, here, from
-- its status indexes: absolute values overwrite whatever increments arrived
-- first, and both are kept by the same atomic calls, so it is exact.
local order = {'queued', 'running', 'cancelling', 'pausing', 'paused', 'completed',
  'completed_with_errors', 'failed', 'cancelled', 'timed_out'}
if redis.call('HEXISTS', K_COUNTS, 'built') == 0 then
  local all = {}
  local fields = {'built', '1'}
  -- Queued and running jobs have no index (see set_status): counted where
  -- they are, running ones in the active set, queued ones in the queues,
  -- the scheduled sets and the workers' processing lists (a walk as long as
  -- the backlog, once).
  local unindexed = {queued = {}, running = {}}
  local function tally(id)
    local v = redis.call('HMGET', k_job(id), 'tenant', 'status')
    local per = v[1] and unindexed[v[2]]
    if per then per[v[1]] = (per[v[1]] or 0) + 1 end
  end
  for _, id in ipairs(redis.call('ZRANGE', K_ACTIVE, 0, -1)) do tally(id) end
  for _, q in ipairs(redis.call('SMEMBERS', K_QUEUES)) do
    for _, id in ipairs(redis.call('LRANGE', k_queue(q), 0, -1)) do tally(id) end
    for _, id in ipairs(redis.call('ZRANGE', k_scheduled(q), 0, -1)) do tally(id) end
  end
  for _, w in ipairs(redis.call('ZRANGE', K_WORKERS, 0, -1)) do
    for _, id in ipairs(redis.call('LRANGE', k_processing(w), 0, -1)) do tally(id) end
  end
  for _, t in ipairs(redis.call('SMEMBERS', K_TENANTS)) do
    for _, s in ipairs(order) do
      local n = unindexed[s] and (unindexed[s][t] or 0) or redis.call('ZCARD', k_index(t, s))
      all[s] = (all[s] or 0) + n
      fields[#fields + 1] = t .. SEP .. s
      fields[#fields + 1] = n
    end
  end
  for _, s in ipairs(order) do
    fields[#fields + 1] = SEP .. s
    fields[#fields + 1] = all[s] or 0
  end
  redis.call('HSET', K_COUNTS, unpack(fields))
end
local names = {}
for i, s in ipairs(order) do names[i] = ARGV[4] .. SEP .. s end
local got = redis.call('HMGET', K_COUNTS, unpack(names))
local counts = {}
for i, s in ipairs(order) do
  counts[#counts + 1] = s
  counts[#counts + 1] = tonumber(got[i]) or 0
end
local queues = {}
local queue_names = redis.call('SMEMBERS', K_QUEUES)
table.sort(queue_names)
for _, q in ipairs(queue_names) do
  queues[#queues + 1] = {q, redis.call('LLEN', k_queue(q)), redis.call('ZCARD', k_scheduled(q))}
end
local workers = {}
local w = redis.call('ZRANGE', K_WORKERS, 0, -1, 'WITHSCORES')
for i = 1, #w, 2 do
  local entry = {w[i + 1]}
  for _, v in ipairs(redis.call('HGETALL', k_worker(w[i]))) do entry[#entry + 1] = v end
  workers[#workers + 1] = entry
end
return {counts, queues, workers, redis.call('HGETALL', K_FINISHED)}
