// Drives postbox serve with the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs,
// JSON protocol, its MD5 body checks on). Usage: node check.mjs ENDPOINT_URL
// Prints one "PASS name" or "FAIL name: why" line per check; exits 1 when any
// check failed.
import { createHash } from "node:crypto";
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand,
  ChangeMessageVisibilityBatchCommand,
  PurgeQueueCommand,
  TagQueueCommand,
  UntagQueueCommand,
  ListQueueTagsCommand,
  ListDeadLetterSourceQueuesCommand,
  StartMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  DeleteQueueCommand,
  QueueDoesNotExist,
} from "@aws-sdk/client-sqs";

const endpoint = process.argv[2];
const host = endpoint.split("://")[1];
const sqs = new SQSClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
  // md5 left at its default (the SDK's MD5 hash): it checks MD5OfMessageBody and
  // MD5OfBody of every send and receive.
});

let failures = 0;
let md5Checked = 0;
const state = {};

async function check(name, fn) {
  try {
    await fn();
    console.log(`PASS node ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL node ${name}: ${e && e.name}: ${e && e.message}`);
  }
}

function expect(cond, what) {
  if (!cond) throw new Error(typeof what === "string" ? what : JSON.stringify(what));
}

async function errorOf(cmd) {
  try {
    await sqs.send(cmd);
  } catch (e) {
    return e;
  }
  throw new Error("no error");
}

// The SDK checks body digests only; attribute digests are checked here with
// SQS's documented algorithm.
function md5OfAttributes(attrs) {
  const h = createHash("md5");
  const len = (b) => {
    const l = Buffer.alloc(4);
    l.writeUInt32BE(b.length);
    return l;
  };
  for (const name of Object.keys(attrs).sort()) {
    const v = attrs[name];
    const n = Buffer.from(name, "utf8");
    const t = Buffer.from(v.DataType, "utf8");
    h.update(len(n)).update(n).update(len(t)).update(t);
    if (v.DataType.startsWith("Binary")) {
      const b = Buffer.from(v.BinaryValue);
      h.update(Buffer.from([2])).update(len(b)).update(b);
    } else {
      const s = Buffer.from(v.StringValue, "utf8");
      h.update(Buffer.from([1])).update(len(s)).update(s);
    }
  }
  md5Checked++;
  return h.digest("hex");
}

await check("create queue with attributes and tags", async () => {
  const out = await sqs.send(new CreateQueueCommand({
    QueueName: "node-work",
    Attributes: { VisibilityTimeout: "40" },
    tags: { team: "interop" },
  }));
  expect(out.QueueUrl === `http://${host}/000000000000/node-work`, `QueueUrl ${out.QueueUrl}`);
  state.url = out.QueueUrl;
  const got = await sqs.send(new GetQueueUrlCommand({ QueueName: "node-work" }));
  expect(got.QueueUrl === state.url, "GetQueueUrl");
  const list = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: "node-" }));
  expect(list.QueueUrls.includes(state.url), list);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: state.url, Attributes: { DelaySeconds: "0", VisibilityTimeout: "45" } }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: state.url, AttributeNames: ["All"] }));
  expect(attrs.Attributes.VisibilityTimeout === "45", attrs.Attributes);
});

const attrs = {
  s: { DataType: "String", StringValue: "v" },
  n: { DataType: "Number", StringValue: "-3.25" },
  b: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 255]) },
};

await check("send with attributes (MD5 validated)", async () => {
  const out = await sqs.send(new SendMessageCommand({
    QueueUrl: state.url, MessageBody: "héllo <world> & 😀", MessageAttributes: attrs,
  }));
  expect(out.MD5OfMessageAttributes === md5OfAttributes(attrs), out);
  const plain = await sqs.send(new SendMessageCommand({ QueueUrl: state.url, MessageBody: "plain" }));
  expect(plain.MD5OfMessageAttributes === undefined, plain);
});

await check("batch send with a failing entry", async () => {
  const out = await sqs.send(new SendMessageBatchCommand({
    QueueUrl: state.url,
    Entries: [
      { Id: "a", MessageBody: "A" },
      { Id: "b", MessageBody: "B", MessageAttributes: attrs },
      { Id: "bad", MessageBody: "C", DelaySeconds: 901 },
    ],
  }));
  expect(out.Successful.map((e) => e.Id).sort().join() === "a,b", out);
  expect(out.Successful.find((e) => e.Id === "b").MD5OfMessageAttributes === md5OfAttributes(attrs), out);
  expect(out.Failed.length === 1 && out.Failed[0].Id === "bad" && out.Failed[0].Code === "InvalidParameterValue" && out.Failed[0].SenderFault === true, out.Failed);
});

await check("receive with attributes", async () => {
  let msgs = [];
  for (let i = 0; i < 5 && msgs.length < 4; i++) {
    const out = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: state.url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"],
    }));
    msgs = msgs.concat(out.Messages || []);
  }
  expect(msgs.length === 4, `received ${msgs.length}`);
  const m = msgs.find((x) => x.Body === "héllo <world> & 😀");
  expect(m.MD5OfMessageAttributes === md5OfAttributes(m.MessageAttributes), m);
  expect(Buffer.from(m.MessageAttributes.b.BinaryValue).equals(Buffer.from([0, 1, 255])), m.MessageAttributes.b);
  for (const k of ["SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId"]) {
    expect(m.Attributes[k] !== undefined, `${k} missing`);
  }
  expect(msgs.find((x) => x.Body === "plain").MD5OfMessageAttributes === undefined, "digest on a plain message");
  state.msgs = msgs;
});

await check("visibility changes", async () => {
  const msgs = state.msgs;
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: state.url, ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0 }));
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: state.url, MaxNumberOfMessages: 10 }));
  expect(out.Messages && out.Messages.length === 1 && out.Messages[0].MessageId === msgs[0].MessageId, out);
  msgs[0] = out.Messages[0];
  const b = await sqs.send(new ChangeMessageVisibilityBatchCommand({
    QueueUrl: state.url,
    Entries: [
      { Id: "x", ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 100 },
      { Id: "y", ReceiptHandle: "not-a-handle", VisibilityTimeout: 100 },
    ],
  }));
  expect(b.Successful.length === 1 && b.Failed.length === 1 && b.Failed[0].Code === "ReceiptHandleIsInvalid", b);
});

await check("delete and batch delete", async () => {
  const msgs = state.msgs;
  await sqs.send(new DeleteMessageCommand({ QueueUrl: state.url, ReceiptHandle: msgs[0].ReceiptHandle }));
  const out = await sqs.send(new DeleteMessageBatchCommand({
    QueueUrl: state.url,
    Entries: msgs.slice(1).map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
  }));
  expect(out.Successful.length === 3 && (out.Failed || []).length === 0, out);
});

await check("purge", async () => {
  await sqs.send(new SendMessageCommand({ QueueUrl: state.url, MessageBody: "to purge" }));
  await sqs.send(new PurgeQueueCommand({ QueueUrl: state.url }));
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: state.url }));
  expect(!out.Messages || out.Messages.length === 0, out);
});

await check("tags", async () => {
  await sqs.send(new TagQueueCommand({ QueueUrl: state.url, Tags: { env: "test", x: "1" } }));
  await sqs.send(new UntagQueueCommand({ QueueUrl: state.url, TagKeys: ["x"] }));
  const out = await sqs.send(new ListQueueTagsCommand({ QueueUrl: state.url }));
  expect(JSON.stringify(out.Tags) === JSON.stringify({ env: "test", team: "interop" }) ||
    JSON.stringify(out.Tags) === JSON.stringify({ team: "interop", env: "test" }), out.Tags);
});

await check("fifo with groups and deduplication", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({
    QueueName: "node-jobs.fifo", Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
  }));
  for (const [body, group] of [["m0", "g1"], ["m1", "g1"], ["m0", "g1"], ["m2", "g2"]]) {
    const out = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageGroupId: group }));
    expect(out.SequenceNumber, out);
  }
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["MessageGroupId"] }));
  const bodies = (out.Messages || []).map((m) => m.Body);
  expect(bodies.slice().sort().join() === "m0,m1,m2", bodies);
  const g1 = out.Messages.filter((m) => m.Attributes.MessageGroupId === "g1").map((m) => m.Body);
  expect(g1.join() === "m0,m1", g1);
  await sqs.send(new DeleteQueueCommand({ QueueUrl }));
});

await check("dead-letter flow", async () => {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "node-dlq" }))).QueueUrl;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] }))).Attributes.QueueArn;
  const src = (await sqs.send(new CreateQueueCommand({
    QueueName: "node-src",
    Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 1 }) },
  }))).QueueUrl;
  const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq }));
  expect(sources.queueUrls.length === 1 && sources.queueUrls[0] === src, sources);
  await sqs.send(new SendMessageCommand({ QueueUrl: src, MessageBody: "poison" }));
  const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, VisibilityTimeout: 0 }));
  expect(first.Messages && first.Messages.length === 1, first);
  const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src }));
  expect(!again.Messages || again.Messages.length === 0, again);
  const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, VisibilityTimeout: 0 }));
  expect(dead.Messages && dead.Messages[0].Body === "poison", dead);
  const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: arn }));
  expect(task.TaskHandle, task);
  const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: arn }));
  expect(tasks.Results.length === 1 && tasks.Results[0].SourceArn === arn, tasks);
});

await check("errors", async () => {
  let e = await errorOf(new GetQueueUrlCommand({ QueueName: "node-nope" }));
  expect(e instanceof QueueDoesNotExist, `${e.name}: ${e.message}`);
  expect(e.$metadata.httpStatusCode === 400, e.$metadata);
  e = await errorOf(new DeleteMessageCommand({ QueueUrl: state.url, ReceiptHandle: "garbage" }));
  expect(e.name === "ReceiptHandleIsInvalid", e.name);
  e = await errorOf(new SendMessageBatchCommand({
    QueueUrl: state.url, Entries: [{ Id: "a", MessageBody: "1" }, { Id: "a", MessageBody: "2" }],
  }));
  expect(e.name === "BatchEntryIdsNotDistinct", e.name);
  e = await errorOf(new ReceiveMessageCommand({ QueueUrl: state.url, MaxNumberOfMessages: 11 }));
  expect(e.name === "InvalidParameterValue" || e.Code === "InvalidParameterValue", `${e.name}`);
});

await check("delete queue", async () => {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: state.url }));
  const e = await errorOf(new GetQueueAttributesCommand({ QueueUrl: state.url, AttributeNames: ["All"] }));
  expect(e instanceof QueueDoesNotExist, e.name);
});

await check("MD5 digests were checked", async () => {
  expect(md5Checked >= 3, `only ${md5Checked} attribute digests checked`);
});

process.exit(failures ? 1 : 0);
