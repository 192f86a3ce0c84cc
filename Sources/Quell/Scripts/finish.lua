-- finish.lua — record how handlers ended (many jobs per call).
--
-- KEYS: 1 the shard's guard key, <base>:shard (see lib.lua)
-- ARGV: 1 base, 2 now ms, 3 events cap,
--       then 5 per job: id, lease, status, error, progress JSON ('' = keep)
--       status: completed | completed_with_errors | failed | timed_out
-- Allowed from running, cancelling or pausing only. A handler that returned
-- normally after a cancel or pause request it never observed ends
-- `completed` (the truth about the work), with cancel_at kept.
-- Returns one code per job, in order:
--   'ok'        closed
--   'terminal'  already terminal (e.g. the reaper closed it): nothing changed
--   'lost'      another run holds the job now (lease changed): nothing changed
--   'invalid'   not a finishing status
-- Events: one per job closed.

return finish_jobs(ARGV, 4, #ARGV)
