-- The send/receive/delete-batch cycle: each connection sends a
-- SendMessageBatch of 10 x 256 B or a ReceiveMessage of up to 10 (no
-- wait, the queue's visibility timeout), alternately, except that the
-- receipt handles of every receive answered are deleted first, with a
-- DeleteMessageBatch. msgs counts the messages deleted.
--   QUEUE_URL=... wrk -t1 -c32 -d6s -s cycle.lua http://127.0.0.1:PORT/
dofile(os.getenv("WRK_DIR") .. "/common.lua")

function init(args)
  msgs, turn = 0, 0
  pending = {} -- DeleteMessageBatch bodies waiting to be sent
  send_req = sqs("SendMessageBatch", send_body)
  recv_req = sqs("ReceiveMessage", string.format(
    '{"QueueUrl":"%s","MaxNumberOfMessages":10,"WaitTimeSeconds":0}', queue_url))
end

function request()
  local n = #pending
  if n > 0 then
    local body = pending[n]
    pending[n] = nil
    return sqs("DeleteMessageBatch", body)
  end
  turn = 1 - turn
  if turn == 1 then return send_req end
  return recv_req
end

function response(status, headers, body)
  if status ~= 200 then return end
  if body:find('"ReceiptHandle"', 1, true) then
    local es, i = {}, 0
    for h in body:gmatch('"ReceiptHandle":"([^"]*)"') do
      es[#es + 1] = string.format('{"Id":"%d","ReceiptHandle":"%s"}', i, h)
      i = i + 1
    end
    pending[#pending + 1] = string.format('{"QueueUrl":"%s","Entries":[%s]}', queue_url, table.concat(es, ","))
  elseif not body:find('"MessageId"', 1, true) then
    msgs = msgs + count(body, '"Id"') -- a DeleteMessageBatch answer
  end
end

function done(summary, latency, requests) report(summary, latency) end
