-- ReceiveMessage of up to 10 with VisibilityTimeout 0 (the messages stay
-- visible, so a filled queue never runs dry) and no wait. Counts the
-- messages answered.
--   QUEUE_URL=... wrk -t1 -c32 -d6s -s receive.lua http://127.0.0.1:PORT/
dofile(os.getenv("WRK_DIR") .. "/common.lua")

function init(args)
  msgs = 0
  req = sqs("ReceiveMessage", string.format(
    '{"QueueUrl":"%s","MaxNumberOfMessages":10,"VisibilityTimeout":0,"WaitTimeSeconds":0}', queue_url))
end

function request() return req end

function response(status, headers, body)
  if status == 200 then msgs = msgs + count(body, '"ReceiptHandle"') end
end

function done(summary, latency, requests) report(summary, latency) end
