-- stats.lua — counts per status, queue depths, workers: O(1) per status and
-- queue (counts are index cardinalities kept by the scripts; nothing scans jobs).
--
-- KEYS: none (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap (unused), 4 tenant ('' = all tenants)
-- Returns {counts, queues, workers, finished}:
--   counts  {status, n, …} for the 8 statuses (jobs stored now, per tenant)
--   finished {status, n, …} jobs that ever reached each terminal status, all
--            tenants (a counter: never decreases, unlike counts after retention)
--   queues  {{name, depth, scheduled}, …}
--   workers {{expires_ms, <registration fields>}, …}

local tenants
if ARGV[4] ~= '' then tenants = {ARGV[4]} else tenants = redis.call('SMEMBERS', K_TENANTS) end
local order = {'queued', 'running', 'cancelling', 'completed', 'completed_with_errors',
  'failed', 'cancelled', 'timed_out'}
local counts = {}
for _, s in ipairs(order) do
  local n = 0
  for _, t in ipairs(tenants) do n = n + redis.call('ZCARD', k_index(t, s)) end
  counts[#counts + 1] = s
  counts[#counts + 1] = n
end
local queues = {}
local names = redis.call('SMEMBERS', K_QUEUES)
table.sort(names)
for _, q in ipairs(names) do
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
