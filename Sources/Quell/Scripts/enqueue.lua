-- enqueue.lua — accept new jobs into their queues, one dedupe key at a time.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 stale-after ms,
--       then 9 per job: id, type, queue, tenant, key ('' = none), params JSON,
--       max_attempts, timeout seconds ('' = adaptive), headers JSON ('' = none)
-- Returns one flat list, one record per job, in order (flat: a table per
-- record costs the reply conversion more than its strings):
--   'ok'                              accepted, status queued, version 1
--   'conflict', <packed holder>, params   a non-terminal job holds the key (invariant 2)
--   'error', message                  the holder's hash is corrupt
-- Events: 'queued' (version 1) per accepted job. A stuck holder (heartbeat
--   stale or past its deadline) is first closed — running → timed_out,
--   cancelling → cancelled — with its own event, and the key passes on
--   (pausing → paused instead: a paused job keeps its key, so a conflict);
--   while verdicts are held (just after a Redis restart or outage) every
--   holder counts as live.

local stale = tonumber(ARGV[4])
local QUEUED_TAIL = SEP .. 'queued' .. SEP .. SEP .. '0' .. SEP .. '1' .. string.rep(SEP, 13)
local held = nil
-- Per queue, the ids accepted (in order); per tenant, seen or not.
local pushes, queue_order, seen_tenant, tenant_order = {}, {}, {}, {}
local out = {}
for i = 5, #ARGV, 9 do
  local id, typ, q, t, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local holder, failure = nil, nil
  if key ~= '' then
    local hid = redis.call('GET', k_dedupe(t, key))
    if hid then
      local h, err = load(hid)
      if err then
        failure = err
      elseif h and not TERMINAL[h.status] then
        if held == nil then held = verdicts_held(stale) end
        local why = (not held) and stuck_reason(h, stale)
        if why then
          if h.status == 'cancelling' then
            close(h, 'cancelled', {})
          elseif h.status == 'pausing' then
            park(h, {})
            holder = h
          else
            close(h, 'timed_out', {'error', 'stuck (' .. why .. '): replaced by job ' .. id})
          end
        else
          holder = h
        end
      end
    end
  end
  local n = #out
  if failure then
    out[n + 1], out[n + 2] = 'error', failure
  elseif holder then
    out[n + 1], out[n + 2], out[n + 3] = 'conflict', pack(holder), holder.params
  else
    -- What never changes in one field (see SPEC_FIELDS in lib.lua).
    local spec = typ .. SEP .. q .. SEP .. key .. SEP .. ARGV[i + 6] .. SEP .. NOW_S .. SEP .. ARGV[i + 8]
    local timeout = ARGV[i + 7]
    if timeout == '' then  -- only non-empty fields are stored; absent ones read back as ''
      redis.call('HSET', k_job(id), 'spec', spec, 'tenant', t, 'params', ARGV[i + 5], 'status', 'queued',
        'attempt', '0', 'version', '1')
    else
      redis.call('HSET', k_job(id), 'spec', spec, 'tenant', t, 'timeout', timeout, 'params', ARGV[i + 5],
        'status', 'queued', 'attempt', '0', 'version', '1')
    end
    local ids = pushes[q]
    if not ids then
      ids = {}
      pushes[q] = ids
      queue_order[#queue_order + 1] = q
    end
    ids[#ids + 1] = id
    count(t, 'queued', 1)
    defer('ZADD', k_all(t), '0', id)
    if key ~= '' then
      redis.call('SET', k_dedupe(t, key), id)
      defer('ZADD', k_keyjobs(t, key), '0', id)
    end
    if not seen_tenant[t] then
      seen_tenant[t] = true
      tenant_order[#tenant_order + 1] = t
    end
    -- The event: the new job packed as pack() would, with no table to build
    -- for it (status queued, no progress, attempt 0, version 1, 13 empty).
    event(id .. SEP .. spec .. SEP .. t .. SEP .. timeout .. QUEUED_TAIL)
    out[n + 1] = 'ok'
  end
end

-- Each queue's ids in one LPUSH, each tenant's queued count in one HINCRBY,
-- and their replies say whether the queue or the tenant had jobs before:
-- only one that had none can be missing from the set of known queues or
-- tenants (nothing removes a member, and every job came in through here,
-- registering both), so the SADD is skipped for the others.
for _, q in ipairs(queue_order) do
  local ids = pushes[q]
  if redis.call('LPUSH', k_queue(q), unpack(ids)) == #ids then redis.call('SADD', K_QUEUES, q) end
end
for _, t in ipairs(tenant_order) do
  local f = t .. SEP .. 'queued'
  local n = COUNTS[f]  -- the jobs accepted for t here (a closed holder counts other statuses)
  COUNTS[f] = nil
  if redis.call('HINCRBY', K_COUNTS, f, int(n)) == n and redis.call('SADD', K_TENANTS, t) == 1
      and redis.call('SCARD', K_TENANTS) == 1 then
    -- The first tenant ever on this base: a new store, whose counts every
    -- transition has kept from its first job on, so stats never rebuild
    -- them (a rebuild walks the backlog; see stats.lua).
    redis.call('HSET', K_COUNTS, 'built', '1')
  end
end
return out
