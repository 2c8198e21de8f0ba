// Drains one queue of postbox serve with the sqs-consumer framework and
// prints one JSON line in the shape of consumercompare's drain result.
//
//   node drain.mjs QUEUE_URL N ROUND
//
// sqs-consumer is given its documented settings for throughput: batchSize
// 10 (the most one ReceiveMessage returns), the default long poll
// (waitTimeSeconds 20) and no wait between polls (pollingWaitTimeMs 0), a
// no-op handleMessage that returns the message (sqs-consumer 14 deletes only
// the messages a handler returns), and an SQS client whose HTTP agent keeps
// connections alive. The time runs from start() to the N-th
// message_processed event, which sqs-consumer emits after the message's
// DeleteMessage call returned.
import { readFileSync } from "node:fs";
import http from "node:http";
import { SQSClient, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";

const [queueUrl, nArg, roundArg] = process.argv.slice(2);
if (!queueUrl || !nArg) {
  console.error("usage: node drain.mjs QUEUE_URL N [ROUND]");
  process.exit(2);
}
const n = Number(nArg);
const round = Number(roundArg ?? 0);
const endpoint = new URL(queueUrl).origin;
const timeoutMs = Number(process.env.DRAIN_TIMEOUT_MS ?? 300000);

const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const sqs = new SQSClient({
  endpoint,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  requestHandler: { httpAgent: agent },
  maxAttempts: 1,
});

const settings = {
  batchSize: 10,
  waitTimeSeconds: 20,
  pollingWaitTimeMs: 0,
  keepAlive: true,
  maxSockets: 50,
  handler: "handleMessage: async (m) => m",
  sqsConsumer: JSON.parse(readFileSync(new URL("./node_modules/sqs-consumer/package.json", import.meta.url))).version,
};

let processed = 0;
let errors = 0;
let start = 0;
let end = 0;
let mark999 = 0;
const mark = Math.floor((n * 999) / 1000);

const done = new Promise((resolve, reject) => {
  const consumer = Consumer.create({
    queueUrl,
    sqs,
    batchSize: settings.batchSize,
    waitTimeSeconds: settings.waitTimeSeconds,
    pollingWaitTimeMs: settings.pollingWaitTimeMs,
    handleMessage: async (message) => message,
  });
  consumer.on("message_processed", () => {
    processed++;
    if (processed === mark) mark999 = performance.now();
    if (processed === n) {
      end = performance.now();
      consumer.stop();
      resolve();
    }
  });
  for (const ev of ["error", "processing_error", "timeout_error"]) {
    consumer.on(ev, (err) => {
      if (++errors <= 5) console.error(`sqs-consumer ${ev}:`, err?.message ?? err);
    });
  }
  setTimeout(() => reject(new Error(`timed out after ${processed} messages`)), timeoutMs).unref();
  start = performance.now();
  consumer.start();
});

try {
  await done;
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
const seconds = (end - start) / 1000;
const attrs = await sqs.send(new GetQueueAttributesCommand({
  QueueUrl: queueUrl,
  AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
}));
const left = Number(attrs.Attributes.ApproximateNumberOfMessages) +
  Number(attrs.Attributes.ApproximateNumberOfMessagesNotVisible);
console.log(JSON.stringify({
  contender: "sqs-consumer",
  round,
  messages: n,
  seconds,
  msgs_per_s: n / seconds,
  seconds_999: (mark999 - start) / 1000,
  msgs_per_s_999: mark / ((mark999 - start) / 1000),
  left,
  errors,
  settings,
}));
agent.destroy();
process.exit(0);
