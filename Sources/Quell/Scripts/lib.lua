-- lib.lua — the top of Quell's Redis Functions library: shared by every
-- transition, run once when the library is loaded (see
-- Sources/Quell/Store/Scripts.swift, which appends one registered function
-- per script file). Key names mirror Keys.swift.
--
-- Every function is called with one key and the same first three arguments:
--   KEYS[1] the shard's guard key, `<base>:shard`: what Cluster routing hangs
--           on (every key a transition touches carries the same hash tag)
--   ARGV[1] base: the hash-tagged key prefix, e.g. "{quell}"
--   ARGV[2] now: milliseconds since the epoch (from the caller's clock, so
--           tests can move time deterministically)
--   ARGV[3] the events stream's approximate cap, in entries (XADD MAXLEN ~;
--           an entry holds one call's events)
-- Names derive from ARGV[1]; begin() checks it matches KEYS[1].
--
-- The library's state lives as long as the library: begin() sets the
-- per-call values below at the start of every call, and resets what a
-- call before may have left (a call that raised an error never flushed).
-- Nothing here may call a standard global (unpack, tonumber, …) at load time.

local BASE, NOW, NOW_S, MAXLEN
-- string.format, captured per call (standard globals are not reachable while
-- the library loads). Numbers become text through int() where they can: a
-- plain tostring or a number passed to redis.call formats with '%.14g' or
-- '%.17g', the float path of printf, about twice the cost of '%d'.
local FMT
local function int(n) return FMT('%d', n) end
-- string.match, captured per call likewise.
local MATCH
-- Small counts as text, built once per library (on its first call): DIGITS[n]
-- is n's text for 0 ≤ n ≤ 128, SUCC[text] the text of its successor. A
-- version or an attempt goes up by one per change: a table lookup instead of
-- text → number (strtod) → text (sprintf), each a few hundred instructions.
local DIGITS, SUCC
local function succ(text) return SUCC[text] or int(text + 1) end
local K_ACTIVE, K_TENANTS, K_QUEUES, K_REVOKED, K_EVENTS, K_CANCEL, K_PAUSE, K_WORKERS, K_LIVENESS, K_FINISHED, K_COUNTS

local function k_job(id) return BASE .. ':job:' .. id end
local function k_queue(q) return BASE .. ':queue:' .. q end
local function k_scheduled(q) return BASE .. ':scheduled:' .. q end
local function k_processing(w) return BASE .. ':processing:' .. w end
local function k_index(t, s) return BASE .. ':idx:' .. t .. ':' .. s end
local function k_all(t) return BASE .. ':idx:' .. t .. ':all' end
local function k_keyjobs(t, key) return BASE .. ':keyjobs:' .. t .. ':' .. key end
local function k_dedupe(t, key) return BASE .. ':dedupe:' .. t .. ':' .. key end
local function k_worker(w) return BASE .. ':worker:' .. w end

-- Sorted-set and list writes are deferred and flushed once at the end of
-- the script, grouped by key: a batch of 100 jobs moving between the same
-- indexes costs one ZADD and one ZREM with 100 members each instead of 200
-- calls (each redis.call has a fixed cost). Per key, order is kept: runs of
-- the same command are merged, a different command starts a new run.
-- Nothing in a script reads a key after deferring a write to it. The loader
-- (Scripts.swift) calls flush() after the script body, on every path.
-- Takes one or two arguments after the key (ZREM/LPUSH/RPUSH member, or
-- ZADD score and member): fixed arity, because a vararg loop costs three
-- times as much, and this runs several times per job.
local PENDING, PENDING_ORDER, FINISHED, COUNTS = {}, {}, {}, {}
-- The counts fields ('<tenant>\31<status>') of the tenant counted last, by
-- status: joined once per tenant and call rather than once per change.
local COUNT_TENANT, COUNT_FIELDS
-- The call's events, 'j', packed job, … in order: flush() appends them to
-- the stream as one entry (one XADD instead of one per change: a redis.call
-- and a stream entry each cost about as much as the event's fields). The
-- store gives each event of an entry its own id (JobStore.decodeEvents).
local EVENTS = {}
-- Events per entry at most (unpack's limit is ~8000 values; a longer call
-- writes several entries).
local EVENTS_PER_ENTRY = 1000
local function event(packed)
  local n = #EVENTS
  EVENTS[n + 1] = 'j'
  EVENTS[n + 2] = packed
end
local function defer(cmd, key, a, b)
  local runs = PENDING[key]
  if not runs then
    runs = {}
    PENDING[key] = runs
    PENDING_ORDER[#PENDING_ORDER + 1] = key
  end
  local run = runs[#runs]
  if not run or run[1] ~= cmd then
    run = {cmd, key}
    runs[#runs + 1] = run
  end
  local n = #run
  run[n + 1] = a
  if b ~= nil then run[n + 2] = b end
end
local function flush()
  for _, key in ipairs(PENDING_ORDER) do
    for _, run in ipairs(PENDING[key]) do redis.call(unpack(run)) end
  end
  for status, n in pairs(FINISHED) do redis.call('HINCRBY', K_FINISHED, status, int(n)) end
  for field, n in pairs(COUNTS) do
    if n ~= 0 then redis.call('HINCRBY', K_COUNTS, field, int(n)) end
  end
  local n = #EVENTS
  if n == 2 then  -- one change: no unpack
    redis.call('XADD', K_EVENTS, 'MAXLEN', '~', MAXLEN, '*', 'j', EVENTS[2])
  elseif n > 0 then
    local step = 2 * EVENTS_PER_ENTRY
    for i = 1, n, step do
      local last = i + step - 1
      if last > n then last = n end
      redis.call('XADD', K_EVENTS, 'MAXLEN', '~', MAXLEN, '*', unpack(EVENTS, i, last))
    end
  end
end

-- Sets the per-call values; a base other than the last call's (another
-- prefix on the same Redis) renames the fixed keys.
local GUARD
local function begin(keys, args)
  NOW_S = args[2]
  NOW = tonumber(NOW_S)
  FMT = string.format
  MATCH = string.match
  MAXLEN = args[3]
  PENDING, PENDING_ORDER, FINISHED, COUNTS, EVENTS, COUNT_TENANT = {}, {}, {}, {}, {}, nil
  if not SUCC then
    DIGITS, SUCC = {[0] = '0'}, {}
    for n = 1, 128 do
      DIGITS[n] = FMT('%d', n)
      SUCC[DIGITS[n - 1]] = DIGITS[n]
    end
  end
  if args[1] ~= BASE then
    BASE = args[1]
    GUARD = BASE .. ':shard'
    K_ACTIVE = BASE .. ':active'
    K_TENANTS = BASE .. ':tenants'
    K_QUEUES = BASE .. ':queues'
    K_REVOKED = BASE .. ':revoked'
    K_EVENTS = BASE .. ':events'
    K_CANCEL = BASE .. ':cancel'
    K_PAUSE = BASE .. ':pause'
    K_WORKERS = BASE .. ':workers'
    K_LIVENESS = BASE .. ':liveness'
    K_FINISHED = BASE .. ':finished'
    K_COUNTS = BASE .. ':counts'
  end
  if keys[1] ~= GUARD then
    error('quell: KEYS[1] must be the guard key ' .. GUARD .. ', got ' .. tostring(keys[1]))
  end
end

local STATUSES = {queued = true, running = true, cancelling = true, pausing = true, paused = true,
  completed = true, completed_with_errors = true, failed = true, cancelled = true, timed_out = true}
local TERMINAL = {completed = true, completed_with_errors = true, failed = true,
  cancelled = true, timed_out = true}
-- A worker runs the job (it holds a lease, beats, and is in the active set).
local RUNNING = {running = true, cancelling = true, pausing = true}

-- The unit separator (0x1f), which no field can hold (Swift validates or
-- escapes every text that reaches a field): it joins packed values.
local SEP = '\31'

-- Absent fields read as '' (the hash stores only non-empty ones).
local EMPTY = {__index = function() return '' end}

-- A job's hash holds what never changes and no hot transition reads in one
-- field, `spec`: type, queue, key, max_attempts, created_at, headers, joined
-- by SEP (Job.specNames in Job.swift), written once by enqueue.lua. Seven
-- fields instead of thirteen make every HSET, HGETALL and HMGET of the job
-- scan a shorter listpack, and a packed job (events, replies) carries the
-- spec as it is. What start reads (tenant, timeout) stays a field of its
-- own: splitting the spec costs more than the fields it saves (a pattern
-- match is about 20 k instructions), so only the rare transitions that read
-- a spec field (a cancel releasing a key, a requeue) split it, on the first
-- read. Jobs stored by an older Quell hold these as fields of their own.
local SPEC_NAMES = {'type', 'queue', 'key', 'max_attempts', 'created_at', 'headers'}
-- (Written out: no standard global such as ipairs is reachable at load time.)
local SPEC_FIELDS = {type = true, queue = true, key = true, max_attempts = true, created_at = true, headers = true}
local SPEC_PATTERN = '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)$'

-- Sets a loaded job's spec fields from its spec, on the first read of one
-- (many transitions read none): fields the hash holds by name (an older
-- Quell's job) are kept; a spec that does not parse leaves them ''.
local function unpack_spec(j)
  local spec = rawget(j, 'spec')
  local values = spec and {MATCH(spec, SPEC_PATTERN)} or {}
  for i, name in ipairs(SPEC_NAMES) do
    if rawget(j, name) == nil then rawset(j, name, values[i] or '') end
  end
end
local JOB = {__index = function(j, k)
  if SPEC_FIELDS[k] then
    unpack_spec(j)
    return rawget(j, k)
  end
  return ''
end}

-- A job's fields (and params and cursor) as a table, '' for absent ones, or
-- nil if there is no such job. A hash that exists but lacks what every job
-- has is an error reply naming the job, never a crash or a silent guess.
-- One HGETALL: cheaper than an HMGET of the fields by name, which Redis
-- answers by scanning the hash once per name.
local function load(id)
  local v = redis.call('HGETALL', k_job(id))
  if #v == 0 then return nil end
  -- Every field that changes (pack's, and params and cursor), '' until the
  -- hash says otherwise: one table sized once, where filling an empty one
  -- would resize it five times, and pack() finds every field without a
  -- metatable call. The spec's fields come from JOB's __index when read.
  local j = setmetatable({id = id, tenant = '', timeout = '', status = '', progress = '', attempt = '', version = '', started_at = '',
    heartbeat_at = '', completed_at = '', deadline_at = '', expected = '', worker = '', lease = '',
    error = '', cancel_at = '', cancel_reason = '', total = '', paused_at = '', resumes = '',
    params = '', cursor = ''}, JOB)
  for i = 1, #v, 2 do j[v[i]] = v[i + 1] end
  -- (A job with a spec has a queue: reading it here would split the spec.)
  if j.id ~= id or not STATUSES[j.status] or not (SUCC[j.version] or tonumber(j.version)) or j.tenant == ''
      or (not rawget(j, 'spec') and j.queue == '') then
    return nil, 'CORRUPT job ' .. id .. ' is malformed (status "' .. j.status .. '", version "' .. j.version .. '")'
  end
  return j
end

-- A spec's dedupe key ('' for none; nil if it does not parse).
local function spec_key(spec)
  return MATCH(spec, '^[^\31]*\31[^\31]*\31([^\31]*)\31')
end

-- The job packed in one string: id, the spec, tenant, timeout, then the
-- fields that change, joined by SEP (Job.fieldNames in Job.swift, in order). One string instead
-- of 52 arguments is most of what makes events and replies cheap
-- (Job(packed:) decodes it). One concatenation: Lua builds the string in
-- one pass, where a table and table.concat cost about three times as much.
-- Absent fields must read as '' (load's metatable sees to that).
local function pack(j)
  local spec = rawget(j, 'spec') or (j.type .. SEP .. j.queue .. SEP .. j.key .. SEP .. j.max_attempts
    .. SEP .. j.created_at .. SEP .. j.headers)
  return j.id .. SEP .. spec .. SEP .. j.tenant .. SEP .. j.timeout .. SEP .. j.status .. SEP .. j.progress .. SEP .. j.attempt .. SEP
    .. j.version .. SEP .. j.started_at .. SEP .. j.heartbeat_at .. SEP .. j.completed_at .. SEP
    .. j.deadline_at .. SEP .. j.expected .. SEP .. j.worker .. SEP .. j.lease .. SEP .. j.error .. SEP
    .. j.cancel_at .. SEP .. j.cancel_reason .. SEP .. j.total .. SEP .. j.paused_at .. SEP .. j.resumes
end

-- Jobs stored now, per tenant and status and over all tenants, live in one
-- hash, `counts` (field '<tenant>\31<status>', and '\31<status>' for all
-- tenants), so stats cost the same for 1 tenant or 10 000 and any depth.
-- Every change of a job's status goes through set_status (or enqueue and
-- the janitor, which add and delete jobs): they adjust the counts, merged
-- per call and flushed with one HINCRBY per field.
local ALL_TENANTS_FIELD = {queued = SEP .. 'queued', running = SEP .. 'running',
  cancelling = SEP .. 'cancelling', pausing = SEP .. 'pausing', paused = SEP .. 'paused', completed = SEP .. 'completed',
  completed_with_errors = SEP .. 'completed_with_errors', failed = SEP .. 'failed',
  cancelled = SEP .. 'cancelled', timed_out = SEP .. 'timed_out'}  -- every status of STATUSES
local function count(t, status, n)
  if t ~= COUNT_TENANT then
    COUNT_TENANT, COUNT_FIELDS = t, {}
  end
  local f = COUNT_FIELDS[status]
  if not f then
    f = t .. SEP .. status
    COUNT_FIELDS[status] = f
  end
  COUNTS[f] = (COUNTS[f] or 0) + n
  f = ALL_TENANTS_FIELD[status] or error('quell: add status ' .. status .. ' to ALL_TENANTS_FIELD')
  COUNTS[f] = (COUNTS[f] or 0) + n
end

-- A job for a reply to the caller: {packed, params}.
local function reply_job(j)
  return {pack(j), j.params}
end

-- Appends one event carrying the job as it is now (all fields but params);
-- returns the packed job, for a reply.
local function xadd(j)
  local packed = pack(j)
  event(packed)
  return packed
end

-- A change to a job is a flat list of field, value pairs, in order (a later
-- pair for the same field wins, as in HSET): put() appends one. A list and
-- one unpack into HSET cost a fraction of a table keyed by field walked
-- with pairs() into a second table of arguments.
local function put(changed, f, v)
  local n = #changed
  changed[n + 1] = f
  changed[n + 2] = v
end

-- Writes the changed fields with a bumped version and appends one event;
-- returns the packed job. Every status or progress change goes through
-- here: one change, one version, one event (invariant 7). `packed`, when
-- given, is the job after the change already packed (finish.lua builds it
-- from the worker's copy), so `j` need hold only what the writes use.
local function emit(j, changed, packed)
  local version = succ(j.version)
  j.version = version
  for i = 1, #changed, 2 do j[changed[i]] = changed[i + 1] end
  redis.call('HSET', k_job(j.id), 'version', version, unpack(changed))
  if packed then
    event(packed)
    return packed
  end
  return xadd(j)
end

-- Moves the job between its tenant's status indexes and records the status.
-- `queued` and `running` have no index, so enqueue, start and finish move
-- none: a queued job is in its queue (or scheduled set, or a worker's
-- processing list), a running one in the active set (bounded by the fleet's
-- slots). Listing running jobs reads the active set; listing queued ones
-- filters the tenant's `all` index; their counts are in the counts hash.
local UNINDEXED = {queued = true, running = true}
local function set_status(j, changed, status)
  if j.status ~= status then
    if not UNINDEXED[j.status] then defer('ZREM', k_index(j.tenant, j.status), j.id) end
    if not UNINDEXED[status] then defer('ZADD', k_index(j.tenant, status), '0', j.id) end
    count(j.tenant, j.status, -1)
    count(j.tenant, status, 1)
  end
  put(changed, 'status', status)
end

-- Ends a job: terminal status, out of the active set, dedupe key released
-- (only if this job holds it), one event. Terminal is final (invariant 1):
-- callers check the job is not terminal already. `packed`: see emit().
local function close(j, status, changed, packed)
  set_status(j, changed, status)
  -- Jobs ever finished, per status: a counter that never decreases (the
  -- status indexes shrink when the janitor deletes old jobs). Flushed once.
  FINISHED[status] = (FINISHED[status] or 0) + 1
  put(changed, 'completed_at', NOW_S)
  defer('ZREM', K_ACTIVE, j.id)
  if j.key ~= '' then
    local dk = k_dedupe(j.tenant, j.key)
    if redis.call('GET', dk) == j.id then redis.call('DEL', dk) end
  end
  emit(j, changed, packed)
end

-- Parks a job as paused (not terminal): out of the active set, no worker,
-- lease, heartbeat or deadline, so nothing reaps it and no stale write
-- lands; its dedupe key is kept (invariant 2) and so are its cursor and
-- counters, which the run after a resume continues from. A run that was
-- stopped by the pause gives its attempt back. Counted in `finished` as
-- `pauses` (not a status: stats ignore it as one).
local function park(j, changed)
  if RUNNING[j.status] then
    put(changed, 'attempt', int(math.max(0, (tonumber(j.attempt) or 1) - 1)))
  end
  put(changed, 'worker', '')
  put(changed, 'lease', '')
  put(changed, 'heartbeat_at', '')
  put(changed, 'deadline_at', '')
  put(changed, 'paused_at', NOW_S)
  set_status(j, changed, 'paused')
  defer('ZREM', K_ACTIVE, j.id)
  FINISHED.pauses = (FINISHED.pauses or 0) + 1
  emit(j, changed)
end

-- Seconds a job may run: its fixed timeout, else clamp(base + per × total, min, max).
local function allowed_seconds(j, total, base, per, min, max)
  if j.timeout ~= '' then return tonumber(j.timeout) end
  local s = base + per * (tonumber(total) or 0)
  if s < min then s = min end
  if s > max then s = max end
  return s
end

-- A running job's last sign of life, in ms: its last heartbeat, or its start
-- while none came after it (start writes no heartbeat_at: the start is the
-- first beat, and one field fewer to write per job), nil if neither.
local function last_beat(j)
  local hb, s = tonumber(j.heartbeat_at), tonumber(j.started_at)
  if s and (not hb or s > hb) then return s end
  return hb
end

-- The seconds a run is allowed, as text: its deadline less its start (start
-- and progress write no `expected`, one field fewer per job; a job stored
-- by an older Quell may still hold one).
local function expected(j)
  if j.expected ~= '' then return j.expected end
  local d, s = tonumber(j.deadline_at), tonumber(j.started_at)
  if not d or not s then return '' end
  local ms = d - s
  if ms % 1000 == 0 then return int(ms / 1000) end
  return tostring(ms / 1000)
end

-- When the reaper should look at an active job: its heartbeat going stale,
-- or its deadline passing by the same grace (so a live worker gets the first
-- chance to stop its own overdue job and release its key).
-- The same from a beat and a deadline (ms; deadline nil for none): start,
-- heartbeat and reap_at share it.
local function reap_score(beat, deadline, stale_ms)
  local t = beat + stale_ms
  if deadline and deadline + stale_ms < t then t = deadline + stale_ms end
  return t
end
local function reap_at(j, stale_ms)
  return reap_score(last_beat(j) or NOW, tonumber(j.deadline_at), stale_ms)
end

-- True while stuck verdicts must wait: within stale_ms of the moment Redis
-- restarted or a process regained it (liveness.lua records it). Heartbeats that
-- could not be sent during an outage are no evidence of a dead worker, so
-- for one stale window nothing is judged (invariant 6: never wrongly).
-- Either sign: a process whose clock is a little behind also waits.
local function verdicts_held(stale_ms)
  local r = tonumber(redis.call('HGET', K_LIVENESS, 'resumed'))
  if not r then return false end
  local d = NOW - r
  return d < stale_ms and d > -stale_ms
end

-- Why an active job counts as stuck, or nil: 'deadline' once past its
-- deadline, 'stale' once its heartbeat is older than stale_ms. Callers check
-- verdicts_held first.
local function stuck_reason(j, stale_ms)
  if not RUNNING[j.status] then return nil end
  local d = tonumber(j.deadline_at)
  if d and NOW > d then return 'deadline' end
  local hb = last_beat(j) or 0
  if NOW - hb > stale_ms then return 'stale' end
  return nil
end

-- Closes, parks or requeues a stuck job (invariant 6) and says what it did:
-- cancelling → cancelled (the worker is gone or overdue; counters kept);
-- pausing → paused (from the cursor and counters last written);
-- past deadline → timed_out; stale heartbeat → queued again while attempts
-- remain (at the front of its queue), else failed.
local function resolve_stuck(j, why)
  if j.status == 'cancelling' then
    close(j, 'cancelled', {})
    return 'cancelled'
  end
  if j.status == 'pausing' then
    park(j, {})
    return 'paused'
  end
  if why == 'deadline' then
    close(j, 'timed_out', {'error', 'deadline exceeded (' .. expected(j) .. 's allowed)'})
    return 'timed_out'
  end
  local message = 'worker ' .. j.worker .. ' lost: no heartbeat since ' .. int(last_beat(j) or 0)
  if (tonumber(j.attempt) or 0) < (tonumber(j.max_attempts) or 1) then
    local changed = {'worker', '', 'lease', '', 'heartbeat_at', '', 'deadline_at', '', 'error', message}
    set_status(j, changed, 'queued')
    defer('ZREM', K_ACTIVE, j.id)
    defer('RPUSH', k_queue(j.queue), j.id)
    emit(j, changed)
    return 'requeued'
  end
  close(j, 'failed', {'error', message .. ' (attempt ' .. j.attempt .. ' of ' .. j.max_attempts .. ')'})
  return 'failed'
end

-- Workers whose registration expired (by `upto`, default now; a worker that
-- shuts down deregisters itself with score 0): the ids they had claimed by a
-- blocking pop but not started go back to the front of their queues.
local function bury_dead_workers(limit, upto)
  local out = {}
  local dead = redis.call('ZRANGEBYSCORE', K_WORKERS, '-inf', upto or NOW, 'LIMIT', 0, limit)
  for _, w in ipairs(dead) do
    local proc = k_processing(w)
    for _, id in ipairs(redis.call('LRANGE', proc, 0, -1)) do
      local j = load(id)
      if j and j.status == 'queued' then defer('RPUSH', k_queue(j.queue), id) end
    end
    redis.call('DEL', proc, k_worker(w))
    redis.call('ZREM', K_WORKERS, w)
    out[#out + 1] = {'worker_gone', w}
  end
  return out
end

-- ---------------------------------------------------------------------------
