#!/usr/bin/env python3
"""Checks postbox serve's SigV4 authentication and cross-account policies
with boto3 (JSON protocol) and the AWS CLI.

Usage: auth_check.py ENDPOINT_URL
The server must run with two credentials:
  AKIDOWNER / owner-secret in account 111111111111
  AKIDOTHER / other-secret in account 222222222222
Prints one "PASS name" or "FAIL name: why" line per check and exits 1 when
any check failed.
"""
import json
import os
import subprocess
import sys
import traceback

import boto3
import botocore.config
from botocore import UNSIGNED
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
OWNER = ("AKIDOWNER", "owner-secret", "111111111111")
OTHER = ("AKIDOTHER", "other-secret", "222222222222")
failures = 0


def client(key, secret, signed=True):
    cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
    if not signed:
        cfg = cfg.merge(botocore.config.Config(signature_version=UNSIGNED))
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, config=cfg)


def check(name, fn):
    global failures
    try:
        fn()
        print(f"PASS auth {name}")
    except Exception as e:  # noqa: BLE001
        failures += 1
        print(f"FAIL auth {name}: {e!r}")
        traceback.print_exc(file=sys.stderr)


def expect_error(code, status, fn):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        st = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if got != code or st != status:
            raise AssertionError(f"got {got} {st}, want {code} {status}: {e}")
        return e
    raise AssertionError(f"succeeded, want {code}")


owner = client(*OWNER[:2])
other = client(*OTHER[:2])
state = {}


def right_keys():
    url = owner.create_queue(QueueName="auth-jobs")["QueueUrl"]
    assert url.endswith("/111111111111/auth-jobs"), url
    state["url"] = url
    owner.send_message(QueueUrl=url, MessageBody="signed")
    msgs = owner.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
    assert len(msgs) == 1 and msgs[0]["Body"] == "signed", msgs
    owner.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])


check("boto3: right keys: create, send, receive, delete", right_keys)
check("boto3: wrong secret -> SignatureDoesNotMatch",
      lambda: expect_error("SignatureDoesNotMatch", 403, lambda: client("AKIDOWNER", "wrong").list_queues()))
check("boto3: unknown key -> InvalidClientTokenId",
      lambda: expect_error("InvalidClientTokenId", 403, lambda: client("AKIDNOBODY", "x").list_queues()))
check("boto3: unsigned -> MissingAuthenticationToken",
      lambda: expect_error("MissingAuthenticationToken", 403, lambda: client("x", "y", signed=False).list_queues()))


def accounts_are_separate():
    urls = other.list_queues().get("QueueUrls", [])
    assert not any("111111111111" in u for u in urls), urls
    u = other.create_queue(QueueName="auth-jobs")["QueueUrl"]
    assert u.endswith("/222222222222/auth-jobs"), u


check("boto3: each account lists and creates its own queues", accounts_are_separate)
check("boto3: cross-account send without a grant -> AccessDenied",
      lambda: expect_error("AccessDenied", 403, lambda: other.send_message(QueueUrl=state["url"], MessageBody="x")))


def add_permission_grants():
    owner.add_permission(QueueUrl=state["url"], Label="send", AWSAccountIds=["222222222222"], Actions=["SendMessage"])
    other.send_message(QueueUrl=state["url"], MessageBody="from other")
    other.send_message_batch(QueueUrl=state["url"], Entries=[{"Id": "a", "MessageBody": "batch"}])
    expect_error("AccessDenied", 403, lambda: other.receive_message(QueueUrl=state["url"]))


check("boto3: AddPermission grants SendMessage (and the batch) only", add_permission_grants)


def policy_grants_and_denies():
    pol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "recv", "Effect": "Allow", "Principal": {"AWS": "222222222222"},
         "Action": ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"], "Resource": "arn:aws:sqs:*:111111111111:auth-*"},
        {"Sid": "nosend", "Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]}
    owner.set_queue_attributes(QueueUrl=state["url"], Attributes={"Policy": json.dumps(pol)})
    msgs = other.receive_message(QueueUrl=state["url"], MaxNumberOfMessages=10).get("Messages", [])
    assert len(msgs) == 2, msgs
    expect_error("AccessDenied", 403, lambda: other.send_message(QueueUrl=state["url"], MessageBody="x"))
    expect_error("AccessDenied", 403, lambda: other.delete_queue(QueueUrl=state["url"]))


check("boto3: Policy allows receive, explicit Deny wins over the grant, DeleteQueue stays the owner's", policy_grants_and_denies)


def policy_limits():
    sts = [{"Sid": f"s{i}", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"} for i in range(21)]
    expect_error("InvalidAttributeValue", 400, lambda: owner.set_queue_attributes(
        QueueUrl=state["url"], Attributes={"Policy": json.dumps({"Statement": sts})}))


check("boto3: a policy of 21 statements -> InvalidAttributeValue", policy_limits)


# The AWS CLI, with the same keys, from the environment.
def cli(key, secret, *args, unsigned=False):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    cmd = ["aws", "sqs", *args, "--endpoint-url", endpoint, "--output", "json"]
    if unsigned:
        cmd.append("--no-sign-request")
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def cli_ok():
    r = cli("AKIDOWNER", "owner-secret", "list-queues")
    assert r.returncode == 0, r.stderr
    assert "/111111111111/auth-jobs" in r.stdout, r.stdout


def cli_error(code, *args, **kw):
    def f():
        r = cli(*args, **kw)
        assert r.returncode != 0 and f"({code})" in r.stderr, (r.returncode, r.stdout, r.stderr)
    return f


def cli_installed():
    try:
        subprocess.run(["aws", "--version"], capture_output=True, timeout=30)
        return True
    except FileNotFoundError:
        return False


if cli_installed():
    check("cli: right keys list the account's queues", cli_ok)
    check("cli: wrong secret -> SignatureDoesNotMatch", cli_error("SignatureDoesNotMatch", "AKIDOWNER", "wrong", "list-queues"))
    check("cli: unknown key -> InvalidClientTokenId", cli_error("InvalidClientTokenId", "AKIDNOBODY", "x", "list-queues"))
    check("cli: --no-sign-request -> MissingAuthenticationToken",
          cli_error("MissingAuthenticationToken", "x", "y", "list-queues", unsigned=True))
else:
    failures += 1
    print("FAIL cli-auth: the aws command is not installed")

sys.exit(1 if failures else 0)
