-- Cycles through pre-signed raw requests (one file, separated by a NUL byte) and prints the summary
-- as one JSON line. Usage: BENCH_REQUESTS=<file> wrk -s bench/wrk.lua ...
local requests = {}
local count = 0
local index = 0

function init(args)
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "rb"))
  local data = file:read("*a")
  file:close()
  for item in string.gmatch(data, "([^%z]+)") do
    count = count + 1
    requests[count] = item
  end
  -- Each wrk thread starts at a different place in the list.
  index = (id or 0) * 7919 % count
end

function setup(thread)
  thread:set("id", (thread_count or 0))
  thread_count = (thread_count or 0) + 1
end

function request()
  index = index + 1
  if index > count then index = 1 end
  return requests[index]
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
