-- wrk script for bench/run: POST a form body with HTTP Basic client
-- authentication. The body and the credentials come from the environment
-- (BENCH_BODY, BENCH_BASIC = base64 of "client_id:secret").
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
