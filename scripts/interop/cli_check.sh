#!/usr/bin/env bash
# Drives postbox serve with the AWS CLI (aws sqs ... --endpoint-url).
# Usage: cli_check.sh ENDPOINT_URL
# Prints one "PASS name" or "FAIL name: why" line per check; exits 1 when any
# check failed. The CLI does not check SQS's MD5 digests itself, so this
# script compares them with md5sum of the bodies.
set -uo pipefail

EP=$1
HOSTPORT=${EP#*://}
failures=0

cli() { aws sqs "$@" --endpoint-url "$EP" --output json; }

# jget JSON EXPR: evaluate a Python expression over the parsed JSON "d".
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1] or "{}"); print(eval(sys.argv[2]))' "$1" "$2"; }

# AWS CLI v1 sends a blob given as a string as the string's bytes; v2
# base64-decodes it.
BLOBS=raw
[[ "$(aws --version 2>&1)" == aws-cli/1.* ]] || BLOBS=base64

md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

pass() { echo "PASS cli $1"; }
fail() {
	echo "FAIL cli $1: $2"
	failures=$((failures + 1))
}

# expect NAME ACTUAL WANTED
expect() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# expect_error NAME CODE COMMAND...: the command fails and names CODE.
expect_error() {
	local name=$1 code=$2
	shift 2
	local err
	if err=$("$@" 2>&1 >/dev/null); then
		fail "$name" "succeeded, want $code"
	elif [[ "$err" == *"$code"* ]]; then
		pass "$name"
	else
		fail "$name" "error '$err', want $code"
	fi
}

# --- queue lifecycle, attributes, tags ------------------------------------
out=$(cli create-queue --queue-name cli-work --attributes VisibilityTimeout=40 --tags team=interop)
URL=$(jget "$out" 'd["QueueUrl"]')
expect "create-queue URL has the client's host" "$URL" "http://$HOSTPORT/000000000000/cli-work"
expect "get-queue-url" "$(jget "$(cli get-queue-url --queue-name cli-work)" 'd["QueueUrl"]')" "$URL"
expect "list-queues" "$(jget "$(cli list-queues --queue-name-prefix cli-)" 'd["QueueUrls"]')" "['$URL']"
cli set-queue-attributes --queue-url "$URL" --attributes VisibilityTimeout=45,DelaySeconds=0 >/dev/null
expect "get/set-queue-attributes" "$(jget "$(cli get-queue-attributes --queue-url "$URL" --attribute-names All)" 'd["Attributes"]["VisibilityTimeout"]')" "45"

# --- send, batch send, receive with attributes ----------------------------
BODY='hello <cli> & "quotes" ünïcode'
out=$(cli send-message --queue-url "$URL" --message-body "$BODY" \
	--message-attributes '{"s":{"DataType":"String","StringValue":"v"},"n":{"DataType":"Number","StringValue":"7"},"b":{"DataType":"Binary","BinaryValue":"AAH/"}}')
expect "send-message MD5OfMessageBody" "$(jget "$out" 'd["MD5OfMessageBody"]')" "$(md5 "$BODY")"
expect "send-message MD5OfMessageAttributes" "$(jget "$out" 'd["MD5OfMessageAttributes"]')" "$(python3 "$(dirname "$0")/md5attrs.py" "$BLOBS" '{"s":{"DataType":"String","StringValue":"v"},"n":{"DataType":"Number","StringValue":"7"},"b":{"DataType":"Binary","BinaryValue":"AAH/"}}')"
out=$(cli send-message --queue-url "$URL" --message-body plain)
expect "send-message without attributes has no attribute digest" "$(jget "$out" '"MD5OfMessageAttributes" in d')" "False"
out=$(cli send-message-batch --queue-url "$URL" --entries '[{"Id":"a","MessageBody":"A"},{"Id":"b","MessageBody":"B"},{"Id":"bad","MessageBody":"C","DelaySeconds":901}]')
expect "send-message-batch Successful" "$(jget "$out" 'sorted(e["Id"] for e in d["Successful"])')" "['a', 'b']"
expect "send-message-batch Failed" "$(jget "$out" '[(e["Id"], e["Code"], e["SenderFault"]) for e in d["Failed"]]')" "[('bad', 'InvalidParameterValue', True)]"
expect "send-message-batch digests" "$(jget "$out" 'sorted(e["MD5OfMessageBody"] for e in d["Successful"])')" "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$(md5 A)" "$(md5 B)")"

out=$(cli receive-message --queue-url "$URL" --max-number-of-messages 10 --attribute-names All --message-attribute-names All)
n=$(jget "$out" 'len(d.get("Messages", []))')
if [ "$n" -lt 4 ]; then
	out2=$(cli receive-message --queue-url "$URL" --max-number-of-messages 10 --attribute-names All --message-attribute-names All)
	out=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1] or "{}"); b=json.loads(sys.argv[2] or "{}"); print(json.dumps({"Messages": a.get("Messages",[])+b.get("Messages",[])}))' "$out" "$out2")
fi
expect "receive-message count" "$(jget "$out" 'len(d["Messages"])')" "4"
expect "receive-message MD5OfBody" "$(jget "$out" 'all(__import__("hashlib").md5(m["Body"].encode()).hexdigest() == m["MD5OfBody"] for m in d["Messages"])')" "True"
expect "receive-message attributes" "$(jget "$out" '[sorted(m["MessageAttributes"]) for m in d["Messages"] if m["Body"].startswith("hello")][0]')" "['b', 'n', 's']"
expect "receive-message system attributes" "$(jget "$out" 'all("SentTimestamp" in m["Attributes"] and "ApproximateReceiveCount" in m["Attributes"] for m in d["Messages"])')" "True"
H0=$(jget "$out" 'd["Messages"][0]["ReceiptHandle"]')
H1=$(jget "$out" 'd["Messages"][1]["ReceiptHandle"]')
H2=$(jget "$out" 'd["Messages"][2]["ReceiptHandle"]')
H3=$(jget "$out" 'd["Messages"][3]["ReceiptHandle"]')

# --- visibility, delete, purge ----------------------------------------------
cli change-message-visibility --queue-url "$URL" --receipt-handle "$H0" --visibility-timeout 0 >/dev/null
out=$(cli receive-message --queue-url "$URL" --max-number-of-messages 10)
expect "change-message-visibility 0 makes it visible" "$(jget "$out" 'len(d.get("Messages", []))')" "1"
H0=$(jget "$out" 'd["Messages"][0]["ReceiptHandle"]')
out=$(cli change-message-visibility-batch --queue-url "$URL" --entries "[{\"Id\":\"x\",\"ReceiptHandle\":\"$H1\",\"VisibilityTimeout\":100},{\"Id\":\"y\",\"ReceiptHandle\":\"junk\",\"VisibilityTimeout\":100}]")
expect "change-message-visibility-batch" "$(jget "$out" '([e["Id"] for e in d["Successful"]], [e["Code"] for e in d["Failed"]])')" "(['x'], ['ReceiptHandleIsInvalid'])"
cli delete-message --queue-url "$URL" --receipt-handle "$H0" >/dev/null && pass "delete-message" || fail "delete-message" "failed"
out=$(cli delete-message-batch --queue-url "$URL" --entries "[{\"Id\":\"1\",\"ReceiptHandle\":\"$H1\"},{\"Id\":\"2\",\"ReceiptHandle\":\"$H2\"},{\"Id\":\"3\",\"ReceiptHandle\":\"$H3\"}]")
expect "delete-message-batch" "$(jget "$out" 'len(d["Successful"])')" "3"
cli send-message --queue-url "$URL" --message-body "to purge" >/dev/null
cli purge-queue --queue-url "$URL" >/dev/null
expect "purge-queue" "$(jget "$(cli receive-message --queue-url "$URL")" 'len(d.get("Messages", []))')" "0"

cli tag-queue --queue-url "$URL" --tags env=test,x=1 >/dev/null
cli untag-queue --queue-url "$URL" --tag-keys x >/dev/null
expect "tag/untag/list-queue-tags" "$(jget "$(cli list-queue-tags --queue-url "$URL")" 'sorted(d["Tags"].items())')" "[('env', 'test'), ('team', 'interop')]"

# --- FIFO --------------------------------------------------------------------
FURL=$(jget "$(cli create-queue --queue-name cli-jobs.fifo --attributes FifoQueue=true)" 'd["QueueUrl"]')
s1=$(jget "$(cli send-message --queue-url "$FURL" --message-body one --message-group-id g --message-deduplication-id d1)" 'd["SequenceNumber"]')
s2=$(jget "$(cli send-message --queue-url "$FURL" --message-body one --message-group-id g --message-deduplication-id d1)" 'd["SequenceNumber"]')
expect "fifo dedup returns the first sequence number" "$s2" "$s1"
cli send-message --queue-url "$FURL" --message-body two --message-group-id g --message-deduplication-id d2 >/dev/null
expect "fifo group order and dedup" "$(jget "$(cli receive-message --queue-url "$FURL" --max-number-of-messages 10)" '[m["Body"] for m in d["Messages"]]')" "['one', 'two']"
expect_error "fifo send without group" MissingParameter cli send-message --queue-url "$FURL" --message-body x

# --- dead-letter flow ----------------------------------------------------------
DURL=$(jget "$(cli create-queue --queue-name cli-dlq)" 'd["QueueUrl"]')
DARN=$(jget "$(cli get-queue-attributes --queue-url "$DURL" --attribute-names QueueArn)" 'd["Attributes"]["QueueArn"]')
SURL=$(jget "$(cli create-queue --queue-name cli-src --attributes "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DARN\\\",\\\"maxReceiveCount\\\":1}\"}")" 'd["QueueUrl"]')
expect "list-dead-letter-source-queues" "$(jget "$(cli list-dead-letter-source-queues --queue-url "$DURL")" 'd["queueUrls"]')" "['$SURL']"
cli send-message --queue-url "$SURL" --message-body poison >/dev/null
expect "dlq: first receive" "$(jget "$(cli receive-message --queue-url "$SURL" --visibility-timeout 0)" 'len(d.get("Messages", []))')" "1"
expect "dlq: second receive moves it" "$(jget "$(cli receive-message --queue-url "$SURL")" 'len(d.get("Messages", []))')" "0"
expect "dlq: message arrives in the dead-letter queue" "$(jget "$(cli receive-message --queue-url "$DURL")" '[m["Body"] for m in d.get("Messages", [])]')" "['poison']"

# --- errors ----------------------------------------------------------------------
expect_error "get-queue-url of a missing queue" AWS.SimpleQueueService.NonExistentQueue cli get-queue-url --queue-name cli-nope
expect_error "delete-message with a bad handle" ReceiptHandleIsInvalid cli delete-message --queue-url "$URL" --receipt-handle garbage
expect_error "batch with duplicate ids" BatchEntryIdsNotDistinct cli delete-message-batch --queue-url "$URL" --entries '[{"Id":"a","ReceiptHandle":"h"},{"Id":"a","ReceiptHandle":"h"}]'
expect_error "create-queue with a bad name" InvalidParameterValue cli create-queue --queue-name 'bad name'

cli delete-queue --queue-url "$URL" >/dev/null && pass "delete-queue" || fail "delete-queue" "failed"
expect_error "queue gone after delete-queue" AWS.SimpleQueueService.NonExistentQueue cli get-queue-attributes --queue-url "$URL"

exit $((failures > 0))
