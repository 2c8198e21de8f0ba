-- Shared by send.lua, receive.lua and cycle.lua (loaded with dofile).
-- QUEUE_URL (environment) is the queue the requests name.
queue_url = os.getenv("QUEUE_URL") or error("QUEUE_URL is not set")

-- The 256-byte body of internal/benchfloor (the floor's canned digests are
-- of this body).
payload = string.rep("abcdefghijklmnopqrstuvwxyz0123456789", 8):sub(1, 256)

function sqs(action, body)
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/x-amz-json-1.0",
    ["X-Amz-Target"] = "AmazonSQS." .. action,
  }, body)
end

send_body = (function()
  local es = {}
  for i = 0, 9 do
    es[#es + 1] = string.format('{"Id":"%d","MessageBody":"%s"}', i, payload)
  end
  return string.format('{"QueueUrl":"%s","Entries":[%s]}', queue_url, table.concat(es, ","))
end)()

-- count returns the occurrences of the plain string pat in s.
function count(s, pat)
  local n, i = 0, 1
  while true do
    local j = s:find(pat, i, true)
    if not j then return n end
    n, i = n + 1, j + #pat
  end
end

threads = {}
function setup(thread) threads[#threads + 1] = thread end

-- report prints one line the runner parses: requests, duration, latency
-- percentiles (µs), errors and the messages moved (msgs, summed over the
-- threads' "msgs" counter, or per_request per request when there is none).
function report(summary, latency, per_request)
  local msgs = 0
  if per_request then
    msgs = summary.requests * per_request
  else
    for _, t in ipairs(threads) do msgs = msgs + (t:get("msgs") or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d msgs=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d errors=%d status_errors=%d\n",
    summary.requests, summary.duration, msgs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
