-- start.lua — a worker takes up to `count` queued jobs and starts them.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 worker id, 5 lease prefix,
--       6 count, 7 stale-after ms, 8-11 timeout base / per-item / min / max
--       seconds, 12… queue names in priority order
-- Takes first the ids this worker claimed with a blocking pop (its
-- processing list, all of them), then pops from the queues in order. An id
-- whose job is not `queued` any more (cancelled while queued, deleted) is
-- dropped: revoked jobs never start, however they were fetched (invariant 4).
-- Returns one flat list, one record per id taken, in order (flat: a table
-- per record costs the reply conversion more than its strings):
--   'job', lease, <packed job>, params, cursor   started: status running;
--       a job with a saved cursor (a retry, a recovery) keeps its progress and
--       counters as saved with that cursor, and the handler continues from it
--   'skip', id, reason                           not started
-- Events: 'running' per started job.

local worker, lease_prefix, count, stale = ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local tbase, tper, tmin, tmax = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])

local ids = {}
local proc = k_processing(worker)
local claimed = redis.call('LRANGE', proc, 0, -1)
if #claimed > 0 then
  redis.call('DEL', proc)
  for _, id in ipairs(claimed) do ids[#ids + 1] = id end
end
local want = count - #ids
local qi = 12
while want > 0 and qi <= #ARGV do
  local got = redis.call('RPOP', k_queue(ARGV[qi]), want)
  if got then
    for _, id in ipairs(got) do ids[#ids + 1] = id end
    want = want - #got
  end
  qi = qi + 1
end

-- Per allowed seconds, the run's deadline and reaper score as text: jobs
-- without a timeout or total of their own share one.
local timing = {}
local function times(seconds)
  local t = timing[seconds]
  if not t then
    local deadline = NOW + math.floor(seconds * 1000)
    -- The start is the run's beat (no heartbeat yet).
    t = {int(deadline), int(reap_score(NOW, deadline, stale))}
    timing[seconds] = t
  end
  return t
end

local out = {}
local function skip(id, reason)
  local m = #out
  out[m + 1], out[m + 2], out[m + 3] = 'skip', id, reason
end
for n, id in ipairs(ids) do
  local j, err = load(id)
  if err then
    skip(id, err)
  elseif not j then
    skip(id, 'deleted')
  elseif j.status ~= 'queued' then
    skip(id, j.status)
  else
    local t = times(allowed_seconds(j, j.total, tbase, tper, tmin, tmax))
    -- No heartbeat_at (the start is the run's first beat: see last_beat) and
    -- no expected (deadline less start: see expected): fields not written.
    local changed = {'attempt', succ(j.attempt), 'started_at', NOW_S,
      'worker', worker, 'lease', lease_prefix .. (DIGITS[n] or int(n)), 'deadline_at', t[1]}
    if j.expected ~= '' then put(changed, 'expected', '') end  -- an older Quell's
    if j.cursor == '' and j.progress ~= '' then put(changed, 'progress', '') end
    set_status(j, changed, 'running')
    local packed = emit(j, changed)
    defer('ZADD', K_ACTIVE, t[2], id)
    local m = #out
    out[m + 1], out[m + 2], out[m + 3], out[m + 4], out[m + 5] = 'job', j.lease, packed, j.params, j.cursor
  end
end
return out
