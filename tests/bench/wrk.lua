-- bench/wrk.lua: one benchmark cell for wrk (driven by bench/run.py through the environment).
--   BENCH_METHOD   GET, POST or DELETE
--   BENCH_HEADERS  "Name: value" lines separated by "\n"
--   BENCH_BODY     request body; every "{n}" becomes a number unique to this request
--                  (thread id * 10^9 + counter), for find-or-create of new customers
-- At the end it prints one JSON line: requests, seconds, errors and latency percentiles (us).

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local unique = body:find("{n}", 1, true) ~= nil
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = method
  wrk.headers = headers
  if not unique and body ~= "" then wrk.body = body end
end

function request()
  if unique then
    counter = counter + 1
    local n = tostring((thread_id or 0) * 1000000000 + counter)
    return wrk.format(method, nil, headers, (body:gsub("{n}", n)))
  end
  return wrk.format(method, nil, headers, wrk.body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "seconds": %.6f, "bytes": %d, "errors": {"connect": %d,' ..
    ' "read": %d, "write": %d, "status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d,' ..
    ' "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
