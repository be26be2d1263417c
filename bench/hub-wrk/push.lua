-- wrk script for bench/hub-wrk.bench.ts: POST pushes with waitForResponse:true, spread over
-- the 8 devices, counting answers that are not 200 per thread.
local devices = 8
local n = 0
local threads = {}
local token = os.getenv("EDGEPUSH_TOKEN")
local msg = "MSH|^~\\\\&|BENCH|CLOUD|LAB|SITE|20240101120000||ORU^R01|W%d|P|2.5\\rPID|1||1^^^MRN||DOE^JANE\\rOBX|1|NM|GLU||5.4|mmol/L\\r"

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads)
end

function init(args)
  non200 = 0
end

function request()
  n = n + 1
  local body = string.format('{"destination":"dev%d","waitForResponse":true,"body":"%s"}', (n + offset) % devices, string.format(msg, n))
  return wrk.format("POST", nil, { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. token }, body)
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non200") end
  io.write(string.format("RESULT requests=%d non200=%d p50_us=%d p99_us=%d duration_us=%d errors=%d\n",
    summary.requests, bad, latency:percentile(50), latency:percentile(99), summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
