-- expire.lua — the janitor: delete terminal jobs finished longer ago than
-- the retention, with their index entries. Not a status change: no event.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap (unused), 4 cutoff ms (finished
--       before it → deleted), 5 cutoff id prefix (the 10-character time part
--       of a job id made at the cutoff), 6 limit per index
-- Looks at the oldest ids (they sort by creation time) of every tenant's
-- terminal status indexes that were created before the cutoff, and deletes
-- those whose completed_at is before it too.
-- Returns the number of jobs deleted.

local cutoff, prefix, limit = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local deleted = 0
for _, t in ipairs(redis.call('SMEMBERS', K_TENANTS)) do
  -- Queued and running jobs had status indexes of their own in stores
  -- written by older versions (see set_status): nothing reads or writes
  -- them now, so what an older version left there goes.
  redis.call('DEL', k_index(t, 'queued'), k_index(t, 'running'))
  for status in pairs(TERMINAL) do
    local index = k_index(t, status)
    for _, id in ipairs(redis.call('ZRANGEBYLEX', index, '-', '(' .. prefix, 'LIMIT', 0, limit)) do
      local v = redis.call('HMGET', k_job(id), 'completed_at', 'key', 'spec')
      local done = tonumber(v[1])
      if not v[2] and v[3] then  -- the key in the spec (a field of its own: an older Quell's job)
        local key = spec_key(v[3])
        if key ~= '' then v[2] = key end
      end
      if not done or done < cutoff then
        redis.call('DEL', k_job(id))
        defer('ZREM', index, id)
        count(t, status, -1)
        defer('ZREM', k_all(t), id)
        if v[2] then defer('ZREM', k_keyjobs(t, v[2]), id) end
        deleted = deleted + 1
      end
    end
  end
end
return deleted
