-- wrk script for the forwarder benchmark: GET or POST (BENCH_METHOD), one JSON summary line.
local method = os.getenv("BENCH_METHOD") or "GET"
wrk.method = method
if method == "POST" then
  wrk.body = '{"userid":"user001","language":"zh_CN"}'
  wrk.headers["Content-Type"] = "application/json"
end
wrk.headers["Host"] = "forwarder.bench"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
