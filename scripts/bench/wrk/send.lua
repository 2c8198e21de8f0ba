-- SendMessageBatch of 10 x 256 B, the same request over and over.
--   QUEUE_URL=... wrk -t1 -c32 -d6s -s send.lua http://127.0.0.1:PORT/
dofile(os.getenv("WRK_DIR") .. "/common.lua")

function init(args)
  req = sqs("SendMessageBatch", send_body)
end

function request() return req end

function done(summary, latency, requests) report(summary, latency, 10) end
