-- wrk script: POST /v1/jobs with a small JSON body (no dedupe key, so every
-- request enqueues a new job). The token comes from the QUELL_BENCH_TOKEN
-- environment variable (bench/api/run sets it).
wrk.method = "POST"
wrk.body = '{"type":"demo.noop","params":{"source":"bench"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("QUELL_BENCH_TOKEN") or "bench")
