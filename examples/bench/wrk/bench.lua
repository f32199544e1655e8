-- wrk script for run.sh. The scenario comes from the environment:
--   BENCH_POST=<bytes>  POST /echo with a body of that size
--   BENCH_CLOSE=1       send "Connection: close": a new connection per request
-- done() prints one machine-readable line:
--   BENCH <requests> <duration us> <p50 us> <p99 us> <errors> <non-2xx>
local size = tonumber(os.getenv("BENCH_POST") or "0")
if size > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", size)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
if os.getenv("BENCH_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
