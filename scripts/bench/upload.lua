-- wrk: upload page PNGs from $PAGES; a per-request suffix after IEND makes every body,
-- and so every stored blob, distinct while the image stays the same.
local bodies = {}
local n = 0
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
end

init = function(args)
  local i = 0
  while true do
    local f = io.open(string.format("%s/page-%03d.png", os.getenv("PAGES"), i), "rb")
    if not f then break end
    bodies[i + 1] = f:read("*a")
    f:close()
    i = i + 1
  end
end

request = function()
  n = n + 1
  local headers = {
    ["Content-Type"] = "image/png",
    ["Authorization"] = "Bearer " .. os.getenv("SCANNER"),
  }
  local body = bodies[(n % #bodies) + 1] .. string.format("bench-%d-%d", id, n)
  return wrk.format("POST", os.getenv("UPLOAD_PATH"), headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("bench: non-2xx %d, errors %d\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
