-- forward.lua — move delayed retries that are due back to their queues.
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap (unused), 4 limit per queue, 5… queues
-- The jobs are already `queued` (retry.lua set it): no status change, no event.
-- Returns the number of ids moved.

local limit, moved = tonumber(ARGV[4]), 0
for i = 5, #ARGV do
  local q = ARGV[i]
  local due = redis.call('ZRANGEBYSCORE', k_scheduled(q), '-inf', NOW, 'LIMIT', 0, limit)
  if #due > 0 then
    redis.call('LPUSH', k_queue(q), unpack(due))
    redis.call('ZREM', k_scheduled(q), unpack(due))
    moved = moved + #due
  end
end
return moved
