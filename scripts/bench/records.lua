-- wrk: GET a record (or its proof, with SUFFIX=/proof) by id, ids drawn in turn from the
-- file $IDS, each thread starting at a different place.
local ids = {}
local n = 0
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("start", counter * 7919)
end

init = function(args)
  for line in io.lines(os.getenv("IDS")) do
    ids[#ids + 1] = line
  end
  n = start
end

request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
  return wrk.format("GET", "/api/v1/records/" .. id .. (os.getenv("SUFFIX") or ""), headers)
end

done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("p50_ms=%.3f p99_ms=%.3f rps=%.0f errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6), errors))
end
