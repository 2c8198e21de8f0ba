// Checks postbox serve's SigV4 authentication with the AWS SDK for
// JavaScript v3 (JSON protocol). Usage: node auth.mjs ENDPOINT_URL; the
// server runs with AKIDOWNER / owner-secret in account 111111111111 (see
// ../run, suite auth). Prints "PASS name" / "FAIL name: why" lines.
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand, ListQueuesCommand } from "@aws-sdk/client-sqs";

const ep = process.argv[2];
const client = (key, secret) =>
  new SQSClient({ endpoint: ep, region: "us-east-1", credentials: { accessKeyId: key, secretAccessKey: secret }, maxAttempts: 1 });
let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`PASS auth node: ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL auth node: ${name}: ${e}`);
  }
}
async function expectError(code, status, fn) {
  try {
    await fn();
  } catch (e) {
    if (e.name !== code || e.$metadata?.httpStatusCode !== status) {
      throw new Error(`got ${e.name} ${e.$metadata?.httpStatusCode}, want ${code} ${status}`);
    }
    return;
  }
  throw new Error(`succeeded, want ${code}`);
}

const owner = client("AKIDOWNER", "owner-secret");
await check("right keys: create, send, receive", async () => {
  const q = await owner.send(new CreateQueueCommand({ QueueName: "node-auth" }));
  if (!q.QueueUrl.endsWith("/111111111111/node-auth")) throw new Error(q.QueueUrl);
  const body = "héllo ~*+ & = ü";
  await owner.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: body }));
  const r = await owner.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl }));
  if (r.Messages?.[0]?.Body !== body) throw new Error(JSON.stringify(r.Messages));
});
await check("wrong secret -> SignatureDoesNotMatch", () =>
  expectError("SignatureDoesNotMatch", 403, () => client("AKIDOWNER", "wrong").send(new ListQueuesCommand({}))));
await check("unknown key -> InvalidClientTokenId", () =>
  expectError("InvalidClientTokenId", 403, () => client("AKIDNOBODY", "x").send(new ListQueuesCommand({}))));
process.exit(failures ? 1 : 0);
