#!/usr/bin/env python3
"""Drives postbox serve with boto3 (JSON protocol, MD5 validation on).

Usage: boto3_check.py ENDPOINT_URL
Prints one "PASS name" or "FAIL name: why" line per check and exits 1 when
any check failed.
"""
import hashlib
import json
import struct
import sys
import traceback

import boto3
import botocore.config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
host = endpoint.split("://", 1)[1]
sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
)
failures = 0
md5_checked = 0


# botocore, unlike the Java, Go and JavaScript SDKs, does not check SQS's
# MD5 digests, so this script does, on every send and receive, with SQS's
# documented algorithm written out here independently of the server.
def md5_of_attributes(attrs):
    h = hashlib.md5()
    for name in sorted(attrs):
        v = attrs[name]
        dt = v["DataType"]
        h.update(struct.pack(">I", len(name.encode())) + name.encode())
        h.update(struct.pack(">I", len(dt.encode())) + dt.encode())
        if dt.startswith("Binary"):
            val = v["BinaryValue"]
            val = val if isinstance(val, bytes) else val.encode()
            h.update(b"\x02" + struct.pack(">I", len(val)) + val)
        else:
            val = v["StringValue"].encode()
            h.update(b"\x01" + struct.pack(">I", len(val)) + val)
    return h.hexdigest()


def md5_of_body(body):
    return hashlib.md5(body.encode()).hexdigest()


def remember_input(params, context, **_):
    context["postbox_input"] = dict(params)


def verify_md5s(parsed, context, model, **_):
    global md5_checked
    if parsed.get("Error"):
        return
    sent = context.get("postbox_input", {})

    def check_send(entry, result):
        global md5_checked
        if result.get("MD5OfMessageBody") != md5_of_body(entry["MessageBody"]):
            raise AssertionError(f"MD5OfMessageBody mismatch: {result}")
        if entry.get("MessageAttributes"):
            if result.get("MD5OfMessageAttributes") != md5_of_attributes(entry["MessageAttributes"]):
                raise AssertionError(f"MD5OfMessageAttributes mismatch: {result}")
        elif "MD5OfMessageAttributes" in result:
            raise AssertionError(f"MD5OfMessageAttributes without attributes: {result}")
        if entry.get("MessageSystemAttributes"):
            if result.get("MD5OfMessageSystemAttributes") != md5_of_attributes(entry["MessageSystemAttributes"]):
                raise AssertionError(f"MD5OfMessageSystemAttributes mismatch: {result}")
        md5_checked += 1

    if model.name == "SendMessage":
        check_send(sent, parsed)
    elif model.name == "SendMessageBatch":
        by_id = {e["Id"]: e for e in sent["Entries"]}
        for r in parsed.get("Successful", []):
            check_send(by_id[r["Id"]], r)
    elif model.name == "ReceiveMessage":
        for m in parsed.get("Messages", []):
            if m["MD5OfBody"] != md5_of_body(m["Body"]):
                raise AssertionError(f"MD5OfBody mismatch: {m}")
            if m.get("MessageAttributes") and m.get("MD5OfMessageAttributes") != md5_of_attributes(m["MessageAttributes"]):
                raise AssertionError(f"MD5OfMessageAttributes mismatch: {m}")
            md5_checked += 1


sqs.meta.events.register("provide-client-params.sqs.*", remember_input)
sqs.meta.events.register("after-call.sqs.*", verify_md5s)


def check(name):
    def wrap(fn):
        global failures
        try:
            fn()
            print(f"PASS boto3 {name}")
        except Exception as e:  # noqa: BLE001 - report every failure
            failures += 1
            print(f"FAIL boto3 {name}: {e!r}")
            traceback.print_exc(file=sys.stderr)
        return fn

    return wrap


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def error_code(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e
    raise AssertionError("no error")


state = {}


@check("create queue with attributes and tags")
def _():
    out = sqs.create_queue(
        QueueName="boto-work",
        Attributes={"VisibilityTimeout": "40", "DelaySeconds": "0"},
        tags={"team": "interop"},
    )
    url = out["QueueUrl"]
    expect(url == f"http://{host}/000000000000/boto-work", f"QueueUrl {url}")
    state["url"] = url
    expect(sqs.get_queue_url(QueueName="boto-work")["QueueUrl"] == url, "GetQueueUrl")
    urls = sqs.list_queues(QueueNamePrefix="boto-")["QueueUrls"]
    expect(url in urls, f"ListQueues {urls}")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    expect(attrs["VisibilityTimeout"] == "40", f"attributes {attrs}")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "50"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    expect(attrs == {"VisibilityTimeout": "50"}, f"after set {attrs}")


@check("send with attributes (MD5 validated)")
def _():
    out = sqs.send_message(
        QueueUrl=state["url"],
        MessageBody="héllo <world> & \r\n 😀",
        MessageAttributes={
            "s": {"DataType": "String", "StringValue": "v"},
            "n": {"DataType": "Number", "StringValue": "12.5"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
            "c": {"DataType": "String.custom", "StringValue": "x"},
        },
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}},
    )
    expect("MD5OfMessageAttributes" in out and "MD5OfMessageSystemAttributes" in out, f"{out}")
    plain = sqs.send_message(QueueUrl=state["url"], MessageBody="plain")
    expect("MD5OfMessageAttributes" not in plain, f"MD5OfMessageAttributes without attributes: {plain}")


@check("batch send with a failing entry")
def _():
    out = sqs.send_message_batch(
        QueueUrl=state["url"],
        Entries=[
            {"Id": "a", "MessageBody": "A"},
            {"Id": "b", "MessageBody": "B", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "bad", "MessageBody": "C", "DelaySeconds": 901},
        ],
    )
    expect(sorted(e["Id"] for e in out["Successful"]) == ["a", "b"], f"{out}")
    expect([(e["Id"], e["Code"], e["SenderFault"]) for e in out["Failed"]] == [("bad", "InvalidParameterValue", True)], f"{out}")


@check("receive with attributes")
def _():
    msgs = []
    for _ in range(5):
        out = sqs.receive_message(
            QueueUrl=state["url"], MaxNumberOfMessages=10, AttributeNames=["All"],
            MessageAttributeNames=["All"], WaitTimeSeconds=0,
        )
        msgs += out.get("Messages", [])
        if len(msgs) >= 4:
            break
    expect(len(msgs) == 4, f"received {len(msgs)}")
    by_body = {m["Body"]: m for m in msgs}
    m = by_body["héllo <world> & \r\n 😀"]
    expect(m["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\x01\xff", f"{m}")
    expect(m["MessageAttributes"]["n"] == {"StringValue": "12.5", "DataType": "Number"}, f"{m}")
    for k in ("SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId", "AWSTraceHeader"):
        expect(k in m["Attributes"], f"{k} missing from {m['Attributes']}")
    expect("MD5OfMessageAttributes" not in by_body["plain"], "MD5OfMessageAttributes on a plain message")
    state["msgs"] = msgs


@check("visibility changes")
def _():
    msgs = state["msgs"]
    sqs.change_message_visibility(QueueUrl=state["url"], ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=0)
    out = sqs.receive_message(QueueUrl=state["url"], MaxNumberOfMessages=10)
    got = out.get("Messages", [])
    expect(len(got) == 1 and got[0]["MessageId"] == msgs[0]["MessageId"], f"{got}")
    msgs[0] = got[0]
    out = sqs.change_message_visibility_batch(
        QueueUrl=state["url"],
        Entries=[
            {"Id": "x", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 100},
            {"Id": "y", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 100},
        ],
    )
    expect([e["Id"] for e in out["Successful"]] == ["x"], f"{out}")
    expect([(e["Id"], e["Code"]) for e in out["Failed"]] == [("y", "ReceiptHandleIsInvalid")], f"{out}")


@check("delete and batch delete")
def _():
    msgs = state["msgs"]
    sqs.delete_message(QueueUrl=state["url"], ReceiptHandle=msgs[0]["ReceiptHandle"])
    out = sqs.delete_message_batch(
        QueueUrl=state["url"],
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs[1:])],
    )
    expect(len(out["Successful"]) == 3 and not out.get("Failed"), f"{out}")
    attrs = sqs.get_queue_attributes(
        QueueUrl=state["url"], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    expect(attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}, f"{attrs}")


@check("purge")
def _():
    sqs.send_message(QueueUrl=state["url"], MessageBody="to purge")
    sqs.purge_queue(QueueUrl=state["url"])
    out = sqs.receive_message(QueueUrl=state["url"])
    expect(not out.get("Messages"), f"{out}")
    code, _ = error_code(sqs.purge_queue, QueueUrl=state["url"])
    expect(code == "AWS.SimpleQueueService.PurgeQueueInProgress", code)


@check("tags")
def _():
    sqs.tag_queue(QueueUrl=state["url"], Tags={"env": "test", "x": "1"})
    sqs.untag_queue(QueueUrl=state["url"], TagKeys=["x"])
    tags = sqs.list_queue_tags(QueueUrl=state["url"])["Tags"]
    expect(tags == {"team": "interop", "env": "test"}, f"{tags}")


@check("fifo with groups and deduplication")
def _():
    url = sqs.create_queue(QueueName="boto-jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    seqs = []
    for i, (group, dedup) in enumerate([("g1", "d1"), ("g1", "d2"), ("g1", "d1"), ("g2", "d3")]):
        out = sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId=group, MessageDeduplicationId=dedup)
        expect("SequenceNumber" in out, f"{out}")
        seqs.append(out["SequenceNumber"])
    expect(seqs[2] == seqs[0], "a duplicate send returns the first send's sequence number")
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    msgs = out.get("Messages", [])
    bodies = [m["Body"] for m in msgs]
    expect(sorted(bodies) == ["m0", "m1", "m3"], f"dedup: {bodies}")
    g1 = [m["Body"] for m in msgs if m["Attributes"]["MessageGroupId"] == "g1"]
    expect(g1 == ["m0", "m1"], f"group order {g1}")
    code, _ = error_code(sqs.send_message, QueueUrl=url, MessageBody="x")
    expect(code == "MissingParameter", code)
    sqs.delete_queue(QueueUrl=url)


@check("dead-letter flow and redrive")
def _():
    dlq = sqs.create_queue(QueueName="boto-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.create_queue(
        QueueName="boto-src",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})},
    )["QueueUrl"]
    expect(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src], "ListDeadLetterSourceQueues")
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    first = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0).get("Messages", [])
    expect(len(first) == 1, f"first receive {first}")
    again = sqs.receive_message(QueueUrl=src).get("Messages", [])
    expect(again == [], f"second receive {again}")
    dead = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0).get("Messages", [])
    expect(len(dead) == 1 and dead[0]["Body"] == "poison", f"{dead}")
    expect(dead[0]["Attributes"].get("DeadLetterQueueSourceArn", "").endswith(":boto-src"), f"{dead[0]['Attributes']}")
    task = sqs.start_message_move_task(SourceArn=arn)["TaskHandle"]
    expect(task, "TaskHandle")
    tasks = sqs.list_message_move_tasks(SourceArn=arn, MaxResults=10)["Results"]
    expect(len(tasks) == 1 and tasks[0]["SourceArn"] == arn, f"{tasks}")


@check("errors")
def _():
    code, e = error_code(sqs.get_queue_url, QueueName="boto-nope")
    expect(code == "AWS.SimpleQueueService.NonExistentQueue", code)
    expect(isinstance(e, sqs.exceptions.QueueDoesNotExist), f"exception class {type(e)}")
    expect(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "status")
    code, _ = error_code(sqs.delete_message, QueueUrl=state["url"], ReceiptHandle="garbage")
    expect(code == "ReceiptHandleIsInvalid", code)
    code, _ = error_code(
        sqs.send_message_batch, QueueUrl=state["url"],
        Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}],
    )
    expect(code == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", code)
    code, _ = error_code(sqs.receive_message, QueueUrl=state["url"], MaxNumberOfMessages=11)
    expect(code == "InvalidParameterValue", code)
    code, _ = error_code(sqs.create_queue, QueueName="boto-work", Attributes={"VisibilityTimeout": "1"})
    expect(code == "QueueAlreadyExists", code)


@check("delete queue")
def _():
    sqs.delete_queue(QueueUrl=state["url"])
    code, _ = error_code(sqs.get_queue_attributes, QueueUrl=state["url"], AttributeNames=["All"])
    expect(code == "AWS.SimpleQueueService.NonExistentQueue", code)


@check("MD5 digests were checked")
def _():
    expect(md5_checked >= 10, f"only {md5_checked} digests checked")


sys.exit(1 if failures else 0)
