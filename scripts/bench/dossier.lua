-- wrk: POST a new dossier on every request, spreading requests over the agencies whose
-- scanner tokens are in $TOKENS (space-separated): the 4-digit daily sequence allows
-- 9,999 dossiers per agency per day.
local tokens = {}
local n = 0

init = function(args)
  for t in string.gmatch(os.getenv("TOKENS"), "%S+") do tokens[#tokens + 1] = t end
end

request = function()
  n = n + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
  }
  local body = '{"procedure":"1.001193","applicant":{"kind":"citizen","id":"001204012345","name":"Nguyễn Văn An"}}'
  return wrk.format("POST", nil, headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("bench: non-2xx %d, errors %d\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
