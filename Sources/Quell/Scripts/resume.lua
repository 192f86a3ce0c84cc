-- resume.lua — a paused job goes back to its queue; its next run continues
-- from its saved cursor, with the counters saved with it (start.lua keeps
-- them when there is a cursor).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap, 4 job id, 5 tenant ('' = any tenant: admin)
-- paused         → queued, at the back of its queue; `resumes` + 1
-- queued, running → unchanged: nothing is paused, so a repeated resume
--                  answers the same
-- pausing, cancelling, terminal → not_resumable (a pausing job can be
--                  resumed once it is paused)
-- Returns {code, {<packed job>, params}} with code queued | running |
--   not_resumable, or {'not_found'} (also for another tenant's job).
-- Events: one when the status changes.

local id, tenant = ARGV[4], ARGV[5]
local j, err = load(id)
if err then return redis.error_reply(err) end
if not j or (tenant ~= '' and j.tenant ~= tenant) then return {'not_found'} end
if j.status == 'queued' or j.status == 'running' then return {j.status, reply_job(j)} end
if j.status ~= 'paused' then return {'not_resumable', reply_job(j)} end
local changed = {'resumes', int((tonumber(j.resumes) or 0) + 1), 'paused_at', ''}
set_status(j, changed, 'queued')
defer('LPUSH', k_queue(j.queue), id)
FINISHED.resumes = (FINISHED.resumes or 0) + 1
emit(j, changed)
return {'queued', reply_job(j)}
