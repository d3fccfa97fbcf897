-- wrk script for bench/events.sh: POSTs pipeline events with ids unique across threads and runs,
-- BATCH per request (1 = one JSON event), and counts answers other than 200.
local batch = tonumber(os.getenv("BATCH") or "500")
local token = os.getenv("TOKEN") or ""
local threads = {}
local counter = 0
local prefix = ""
refused = 0

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   math.randomseed(os.time() * 1000 + tid)
   prefix = string.format("b%d-%d-%d-", tid, os.time(), math.random(1, 1000000000))
end

local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/x-ndjson" }

function request()
   local lines = {}
   for i = 1, batch do
      counter = counter + 1
      lines[i] = string.format(
         '{"id":"%s%d","type":"step.finished","pipeline":"bench","run_id":"r%d","step":"s%d","result":"success","exit_code":0,"duration_seconds":1.5}',
         prefix, counter, counter % 1000, counter % 7)
   end
   return wrk.format("POST", "/api/v1/events", headers, table.concat(lines, "\n"))
end

function response(status, headers, body)
   if status ~= 200 then refused = refused + 1 end
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do total = total + (thread:get("refused") or 0) end
   io.write(string.format("refused %d\n", total))
end
