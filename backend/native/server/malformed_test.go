package server_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native/server"
)

// sqsWire is how one SQS error looks on the wire: the JSON protocol's
// __type, the query protocol's Code (also the code in the JSON protocol's
// x-amzn-query-error header) and the HTTP status. The values are the SQS
// API model's (botocore sqs/2012-11-05, aws-sdk-go-v2/service/sqs: the
// awsQueryError trait of each error shape, and the "com.amazonaws.sqs#"
// namespace of modeled shapes) and the API Reference's Common Errors page
// for the unmodeled ones (MissingParameter, InvalidParameterValue,
// MissingAction, InvalidAction, MalformedQueryString), whose JSON types
// for the first two were recorded from real SQS; written out here,
// not looked up in backend's table, so that this test checks that table
// too.
var sqsWire = map[string]struct {
	jsonType, queryCode string
	status              int
}{
	"MissingAction":          {"MissingAction", "MissingAction", 400},
	"UnknownOperation":       {"com.amazon.coral.service#UnknownOperationException", "UnknownOperationException", 404},
	"InvalidAction":          {"InvalidAction", "InvalidAction", 400},
	"MalformedQueryString":   {"MalformedQueryString", "MalformedQueryString", 404},
	"SerializationException": {"com.amazon.coral.service#SerializationException", "SerializationException", 400},
	// Real SQS's JSON answers (recorded for issue 19).
	"MissingParameter":             {"com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter", 400},
	"InvalidParameterValue":        {"com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue", 400},
	"QueueDoesNotExist":            {"com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400},
	"QueueNameExists":              {"com.amazonaws.sqs#QueueNameExists", "QueueAlreadyExists", 400},
	"EmptyBatchRequest":            {"com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400},
	"TooManyEntriesInBatchRequest": {"com.amazonaws.sqs#TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400},
	"BatchEntryIdsNotDistinct":     {"com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
	"InvalidBatchEntryId":          {"com.amazonaws.sqs#InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400},
	"BatchRequestTooLong":          {"com.amazonaws.sqs#BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400},
	"InvalidMessageContents":       {"com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents", 400},
	"ReceiptHandleIsInvalid":       {"com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404},
	"InvalidAttributeName":         {"com.amazonaws.sqs#InvalidAttributeName", "InvalidAttributeName", 400},
	"InvalidAttributeValue":        {"com.amazonaws.sqs#InvalidAttributeValue", "InvalidAttributeValue", 400},
	"ResourceNotFoundException":    {"com.amazonaws.sqs#ResourceNotFoundException", "ResourceNotFoundException", 404},
	"InvalidAddress":               {"com.amazonaws.sqs#InvalidAddress", "InvalidAddress", 404},
	"UnsupportedOperation":         {"com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400},
	"OverLimit":                    {"com.amazonaws.sqs#OverLimit", "OverLimit", 403},
	"PurgeQueueInProgress":         {"com.amazonaws.sqs#PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403},
}

// malformed is one bad request and the SQS error it must get.
type malformed struct {
	name string
	// action is the JSON protocol's X-Amz-Target action; "" for a query
	// protocol request.
	action string
	// body is the JSON body, or the query protocol's form. {std}, {fifo},
	// {dlq}, {missing} (queue URLs), {stdarn}, {dlqarn}, {missingarn}
	// (ARNs) and {rh} (a live receipt handle of std) are replaced (and
	// form-encoded in a form).
	body string
	code string // a key of sqsWire
}

// Placeholder values of a form must be escaped; JSON ones need not be.
func (m malformed) render(vals map[string]string) string {
	b := m.body
	for k, v := range vals {
		if m.action == "" {
			v = url.QueryEscape(v)
		}
		b = strings.ReplaceAll(b, "{"+k+"}", v)
	}
	return b
}

// jsonEntries is a JSON list of n entries with distinct ids; each entry
// has the fields extra (without braces).
func jsonEntries(n int, extra string) string {
	es := make([]string, n)
	for i := range es {
		es[i] = fmt.Sprintf(`{"Id":"e%d",%s}`, i, extra)
	}
	return "[" + strings.Join(es, ",") + "]"
}

// formEntries is a form of n batch entries named prefix with distinct ids;
// each entry has the fields of extra ("Name=value&...").
func formEntries(prefix string, n int, extra string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "&%s.%d.Id=e%d", prefix, i, i)
		for kv := range strings.SplitSeq(extra, "&") {
			fmt.Fprintf(&b, "&%s.%d.%s", prefix, i, kv)
		}
	}
	return b.String()
}

func jsonAttrs(n int) string {
	as := make([]string, n)
	for i := range as {
		as[i] = fmt.Sprintf(`"a%d":{"DataType":"String","StringValue":"v"}`, i)
	}
	return "{" + strings.Join(as, ",") + "}"
}

func jsonTags(n int) string {
	ts := make([]string, n)
	for i := range ts {
		ts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return "{" + strings.Join(ts, ",") + "}"
}

// malformedCases are the bad requests, JSON protocol first. Where SQS's
// answer is not obvious, the comment names the source: the SQS API
// Reference (via botocore's documentation strings) or backend's
// validators, which follow it.
func malformedCases() []malformed {
	const q = `"QueueUrl":"{std}"`
	const fq = `"QueueUrl":"{fifo}"`
	long := strings.Repeat("a", 81)
	mib := strings.Repeat("b", 1<<20)
	half := strings.Repeat("c", 600<<10)
	huge := strings.Repeat("h", server.DefaultMaxRequestBytes+1)
	return []malformed{
		// JSON: bodies that do not decode, and wrong JSON types (the JSON
		// protocol's SerializationException).
		{"json malformed", "CreateQueue", `{"QueueName":`, "SerializationException"},
		{"json array body", "CreateQueue", `["x"]`, "SerializationException"},
		{"json trailing garbage", "ListQueues", `{} x`, "SerializationException"},
		{"json string for integer", "ReceiveMessage", `{` + q + `,"MaxNumberOfMessages":"5"}`, "SerializationException"},
		{"json integer for string", "GetQueueUrl", `{"QueueName":5}`, "SerializationException"},
		{"json boolean for integer", "ChangeMessageVisibility", `{` + q + `,"ReceiptHandle":"{rh}","VisibilityTimeout":true}`, "SerializationException"},
		{"json fraction for integer", "ReceiveMessage", `{` + q + `,"WaitTimeSeconds":1.5}`, "SerializationException"},
		{"json integer overflow", "ReceiveMessage", `{` + q + `,"VisibilityTimeout":1e99}`, "SerializationException"},
		{"json object for list", "GetQueueAttributes", `{` + q + `,"AttributeNames":{}}`, "SerializationException"},
		{"json object for Entries", "DeleteMessageBatch", `{` + q + `,"Entries":{}}`, "SerializationException"},
		{"json string for map", "CreateQueue", `{"QueueName":"n","Attributes":"x"}`, "SerializationException"},
		{"json bad base64", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"b":{"DataType":"Binary","BinaryValue":"!!"}}}`, "SerializationException"},
		{"json number for tag value", "TagQueue", `{` + q + `,"Tags":{"k":1}}`, "SerializationException"},
		{"json unknown action", "Frobnicate", `{}`, "InvalidAction"},
		{"json lower-case action", "sendMessage", `{` + q + `,"MessageBody":"x"}`, "InvalidAction"},
		// JSON: bodies over the server's limit (4 MiB by default): the
		// errors SQS gives for a message and a batch over 1 MiB.
		{"json SendMessage over the request limit", "SendMessage", `{` + q + `,"MessageBody":"` + huge + `"}`, "InvalidParameterValue"},
		{"json SendMessageBatch over the request limit", "SendMessageBatch", `{` + q + `,"Entries":[{"Id":"a","MessageBody":"` + huge + `"}]}`, "BatchRequestTooLong"},
		{"json TagQueue over the request limit", "TagQueue", `{` + q + `,"Tags":{"k":"` + huge + `"}}`, "InvalidParameterValue"},
		// JSON: missing required parameters.
		{"json CreateQueue without QueueName", "CreateQueue", `{}`, "MissingParameter"},
		{"json GetQueueUrl without QueueName", "GetQueueUrl", `{}`, "MissingParameter"},
		{"json SendMessage without QueueUrl", "SendMessage", `{"MessageBody":"x"}`, "MissingParameter"},
		{"json SendMessage without MessageBody", "SendMessage", `{` + q + `}`, "MissingParameter"},
		{"json DeleteMessage without ReceiptHandle", "DeleteMessage", `{` + q + `}`, "MissingParameter"},
		{"json ChangeMessageVisibility without VisibilityTimeout", "ChangeMessageVisibility", `{` + q + `,"ReceiptHandle":"{rh}"}`, "MissingParameter"},
		{"json SetQueueAttributes without Attributes", "SetQueueAttributes", `{` + q + `}`, "MissingParameter"},
		{"json UntagQueue without TagKeys", "UntagQueue", `{` + q + `}`, "MissingParameter"},
		{"json AddPermission without Label", "AddPermission", `{` + q + `,"AWSAccountIds":["111122223333"],"Actions":["SendMessage"]}`, "MissingParameter"},
		{"json RemovePermission without Label", "RemovePermission", `{` + q + `}`, "MissingParameter"},
		{"json StartMessageMoveTask without SourceArn", "StartMessageMoveTask", `{}`, "MissingParameter"},
		{"json CancelMessageMoveTask without TaskHandle", "CancelMessageMoveTask", `{}`, "MissingParameter"},
		{"json ListMessageMoveTasks without SourceArn", "ListMessageMoveTasks", `{}`, "MissingParameter"},
		// JSON: queues that do not exist.
		{"json missing queue", "GetQueueAttributes", `{"QueueUrl":"{missing}","AttributeNames":["All"]}`, "QueueDoesNotExist"},
		{"json send to missing queue", "SendMessage", `{"QueueUrl":"{missing}","MessageBody":"x"}`, "QueueDoesNotExist"},
		{"json GetQueueUrl of missing queue", "GetQueueUrl", `{"QueueName":"missing"}`, "QueueDoesNotExist"},
		{"json DeleteQueue of missing queue", "DeleteQueue", `{"QueueUrl":"{missing}"}`, "QueueDoesNotExist"},
		{"json QueueUrl without a queue path", "SendMessage", `{"QueueUrl":"http://localhost/","MessageBody":"x"}`, "QueueDoesNotExist"},
		// JSON: batches.
		{"json empty batch", "SendMessageBatch", `{` + q + `,"Entries":[]}`, "EmptyBatchRequest"},
		{"json batch without Entries", "DeleteMessageBatch", `{` + q + `}`, "EmptyBatchRequest"},
		{"json empty visibility batch", "ChangeMessageVisibilityBatch", `{` + q + `,"Entries":[]}`, "EmptyBatchRequest"},
		{"json 11 entries", "SendMessageBatch", `{` + q + `,"Entries":` + jsonEntries(11, `"MessageBody":"x"`) + `}`, "TooManyEntriesInBatchRequest"},
		{"json 11 delete entries", "DeleteMessageBatch", `{` + q + `,"Entries":` + jsonEntries(11, `"ReceiptHandle":"{rh}"`) + `}`, "TooManyEntriesInBatchRequest"},
		{"json 11 visibility entries", "ChangeMessageVisibilityBatch", `{` + q + `,"Entries":` + jsonEntries(11, `"ReceiptHandle":"{rh}","VisibilityTimeout":1`) + `}`, "TooManyEntriesInBatchRequest"},
		{"json repeated ids", "SendMessageBatch", `{` + q + `,"Entries":[{"Id":"a","MessageBody":"x"},{"Id":"a","MessageBody":"y"}]}`, "BatchEntryIdsNotDistinct"},
		{"json repeated delete ids", "DeleteMessageBatch", `{` + q + `,"Entries":[{"Id":"a","ReceiptHandle":"{rh}"},{"Id":"a","ReceiptHandle":"{rh}"}]}`, "BatchEntryIdsNotDistinct"},
		{"json empty id", "SendMessageBatch", `{` + q + `,"Entries":[{"Id":"","MessageBody":"x"}]}`, "InvalidBatchEntryId"},
		{"json id of 81 characters", "SendMessageBatch", `{` + q + `,"Entries":[{"Id":"` + long + `","MessageBody":"x"}]}`, "InvalidBatchEntryId"},
		{"json id with a dot", "DeleteMessageBatch", `{` + q + `,"Entries":[{"Id":"a.b","ReceiptHandle":"{rh}"}]}`, "InvalidBatchEntryId"},
		{"json id with a space", "ChangeMessageVisibilityBatch", `{` + q + `,"Entries":[{"Id":"a b","ReceiptHandle":"{rh}","VisibilityTimeout":1}]}`, "InvalidBatchEntryId"},
		{"json id not ASCII", "SendMessageBatch", `{` + q + `,"Entries":[{"Id":"é","MessageBody":"x"}]}`, "InvalidBatchEntryId"},
		{"json batch over 1 MiB", "SendMessageBatch", `{` + q + `,"Entries":[{"Id":"a","MessageBody":"` + half + `"},{"Id":"b","MessageBody":"` + half + `"}]}`, "BatchRequestTooLong"},
		// JSON: message bodies and attributes.
		{"json body with NUL", "SendMessage", `{` + q + `,"MessageBody":"a\u0000b"}`, "InvalidMessageContents"},
		{"json body with U+0001", "SendMessage", `{` + q + `,"MessageBody":"\u0001"}`, "InvalidMessageContents"},
		{"json body with U+FFFE", "SendMessage", `{` + q + `,"MessageBody":"\ufffe"}`, "InvalidMessageContents"},
		{"json body with U+0008", "SendMessage", `{` + q + `,"MessageBody":"\b"}`, "InvalidMessageContents"},
		{"json body over 1 MiB", "SendMessage", `{` + q + `,"MessageBody":"` + mib + `x"}`, "InvalidParameterValue"},
		{"json empty body", "SendMessage", `{` + q + `,"MessageBody":""}`, "MissingParameter"},
		{"json attribute type unknown", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"a":{"DataType":"Float","StringValue":"1"}}}`, "InvalidParameterValue"},
		{"json attribute without value", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"a":{"DataType":"String"}}}`, "InvalidParameterValue"},
		{"json attribute without type", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"a":{"StringValue":"v"}}}`, "InvalidParameterValue"},
		{"json attribute name AWS.", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"AWS.x":{"DataType":"String","StringValue":"v"}}}`, "InvalidParameterValue"},
		{"json attribute name with space", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"a b":{"DataType":"String","StringValue":"v"}}}`, "InvalidParameterValue"},
		{"json attribute name of 257", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"` + strings.Repeat("n", 257) + `":{"DataType":"String","StringValue":"v"}}}`, "InvalidParameterValue"},
		{"json 11 attributes", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":` + jsonAttrs(11) + `}`, "InvalidParameterValue"},
		{"json Number attribute not a number", "SendMessage", `{` + q + `,"MessageBody":"x","MessageAttributes":{"n":{"DataType":"Number","StringValue":"abc"}}}`, "InvalidParameterValue"},
		{"json unknown system attribute", "SendMessage", `{` + q + `,"MessageBody":"x","MessageSystemAttributes":{"Foo":{"DataType":"String","StringValue":"v"}}}`, "InvalidParameterValue"},
		{"json DelaySeconds 901", "SendMessage", `{` + q + `,"MessageBody":"x","DelaySeconds":901}`, "InvalidParameterValue"},
		{"json DelaySeconds -1", "SendMessage", `{` + q + `,"MessageBody":"x","DelaySeconds":-1}`, "InvalidParameterValue"},
		// JSON: receipt handles and visibility.
		{"json garbage receipt handle", "DeleteMessage", `{` + q + `,"ReceiptHandle":"garbage"}`, "ReceiptHandleIsInvalid"},
		{"json garbage handle, visibility", "ChangeMessageVisibility", `{` + q + `,"ReceiptHandle":"garbage","VisibilityTimeout":5}`, "ReceiptHandleIsInvalid"},
		{"json VisibilityTimeout 43201", "ChangeMessageVisibility", `{` + q + `,"ReceiptHandle":"{rh}","VisibilityTimeout":43201}`, "InvalidParameterValue"},
		{"json VisibilityTimeout -1", "ChangeMessageVisibility", `{` + q + `,"ReceiptHandle":"{rh}","VisibilityTimeout":-1}`, "InvalidParameterValue"},
		// JSON: receive parameters out of range.
		{"json MaxNumberOfMessages 0", "ReceiveMessage", `{` + q + `,"MaxNumberOfMessages":0}`, "InvalidParameterValue"},
		{"json MaxNumberOfMessages 11", "ReceiveMessage", `{` + q + `,"MaxNumberOfMessages":11}`, "InvalidParameterValue"},
		{"json WaitTimeSeconds 21", "ReceiveMessage", `{` + q + `,"WaitTimeSeconds":21}`, "InvalidParameterValue"},
		{"json WaitTimeSeconds -1", "ReceiveMessage", `{` + q + `,"WaitTimeSeconds":-1}`, "InvalidParameterValue"},
		{"json receive VisibilityTimeout 43201", "ReceiveMessage", `{` + q + `,"VisibilityTimeout":43201}`, "InvalidParameterValue"},
		{"json receive attempt id of 129", "ReceiveMessage", `{` + fq + `,"ReceiveRequestAttemptId":"` + strings.Repeat("r", 129) + `"}`, "InvalidParameterValue"},
		// JSON: FIFO parameters.
		{"json dedup id on standard", "SendMessage", `{` + q + `,"MessageBody":"x","MessageDeduplicationId":"d"}`, "InvalidParameterValue"},
		{"json FIFO without group", "SendMessage", `{` + fq + `,"MessageBody":"x","MessageDeduplicationId":"d"}`, "MissingParameter"},
		{"json FIFO without dedup id", "SendMessage", `{` + fq + `,"MessageBody":"x","MessageGroupId":"g"}`, "InvalidParameterValue"},
		{"json FIFO per-message delay", "SendMessage", `{` + fq + `,"MessageBody":"x","MessageGroupId":"g","MessageDeduplicationId":"d","DelaySeconds":5}`, "InvalidParameterValue"},
		{"json FIFO group of 129", "SendMessage", `{` + fq + `,"MessageBody":"x","MessageGroupId":"` + strings.Repeat("g", 129) + `","MessageDeduplicationId":"d"}`, "InvalidParameterValue"},
		{"json FIFO group with space", "SendMessage", `{` + fq + `,"MessageBody":"x","MessageGroupId":"g g","MessageDeduplicationId":"d"}`, "InvalidParameterValue"},
		{"json FIFO dedup id of 129", "SendMessage", `{` + fq + `,"MessageBody":"x","MessageGroupId":"g","MessageDeduplicationId":"` + strings.Repeat("d", 129) + `"}`, "InvalidParameterValue"},
		// JSON: queue names and attributes.
		{"json queue name with space", "CreateQueue", `{"QueueName":"a b"}`, "InvalidParameterValue"},
		{"json queue name of 81", "CreateQueue", `{"QueueName":"` + long + `"}`, "InvalidParameterValue"},
		{"json FifoQueue without .fifo", "CreateQueue", `{"QueueName":"nofifo","Attributes":{"FifoQueue":"true"}}`, "InvalidParameterValue"},
		{"json .fifo name on standard", "CreateQueue", `{"QueueName":"x.fifo"}`, "InvalidParameterValue"},
		{"json existing name, other attributes", "CreateQueue", `{"QueueName":"std","Attributes":{"VisibilityTimeout":"99"}}`, "QueueNameExists"},
		{"json unknown queue attribute", "CreateQueue", `{"QueueName":"new","Attributes":{"Colour":"red"}}`, "InvalidAttributeName"},
		{"json VisibilityTimeout attribute not a number", "CreateQueue", `{"QueueName":"new","Attributes":{"VisibilityTimeout":"abc"}}`, "InvalidAttributeValue"},
		{"json DelaySeconds attribute 901", "SetQueueAttributes", `{` + q + `,"Attributes":{"DelaySeconds":"901"}}`, "InvalidAttributeValue"},
		{"json retention 59", "SetQueueAttributes", `{` + q + `,"Attributes":{"MessageRetentionPeriod":"59"}}`, "InvalidAttributeValue"},
		{"json MaximumMessageSize 1023", "SetQueueAttributes", `{` + q + `,"Attributes":{"MaximumMessageSize":"1023"}}`, "InvalidAttributeValue"},
		{"json queue wait 21", "SetQueueAttributes", `{` + q + `,"Attributes":{"ReceiveMessageWaitTimeSeconds":"21"}}`, "InvalidAttributeValue"},
		{"json FifoQueue on standard", "SetQueueAttributes", `{` + q + `,"Attributes":{"FifoQueue":"true"}}`, "InvalidAttributeName"},
		{"json ContentBasedDeduplication on standard", "SetQueueAttributes", `{` + q + `,"Attributes":{"ContentBasedDeduplication":"true"}}`, "InvalidAttributeName"},
		{"json unknown attribute name in Get", "GetQueueAttributes", `{` + q + `,"AttributeNames":["Colour"]}`, "InvalidAttributeName"},
		{"json Policy not JSON", "SetQueueAttributes", `{` + q + `,"Attributes":{"Policy":"{"}}`, "InvalidAttributeValue"},
		{"json RedrivePolicy not JSON", "SetQueueAttributes", `{` + q + `,"Attributes":{"RedrivePolicy":"{"}}`, "InvalidParameterValue"},
		{"json RedrivePolicy maxReceiveCount 0", "SetQueueAttributes", `{` + q + `,"Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"{dlqarn}\",\"maxReceiveCount\":0}"}}`, "InvalidParameterValue"},
		{"json RedrivePolicy to missing queue", "SetQueueAttributes", `{` + q + `,"Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"{missingarn}\",\"maxReceiveCount\":3}"}}`, "InvalidParameterValue"},
		// The engine answers a bad RedriveAllowPolicy as a bad attribute
		// value; SQS's exact code for it is not documented.
		{"json RedriveAllowPolicy unknown permission", "SetQueueAttributes", `{` + q + `,"Attributes":{"RedriveAllowPolicy":"{\"redrivePermission\":\"sometimes\"}"}}`, "InvalidAttributeValue"},
		// JSON: tags.
		{"json empty tag key", "TagQueue", `{` + q + `,"Tags":{"":"v"}}`, "InvalidParameterValue"},
		{"json tag key of 129", "TagQueue", `{` + q + `,"Tags":{"` + strings.Repeat("k", 129) + `":"v"}}`, "InvalidParameterValue"},
		{"json tag value of 257", "TagQueue", `{` + q + `,"Tags":{"k":"` + strings.Repeat("v", 257) + `"}}`, "InvalidParameterValue"},
		{"json tag key aws:", "TagQueue", `{` + q + `,"Tags":{"aws:x":"v"}}`, "InvalidParameterValue"},
		{"json 51 tags", "TagQueue", `{` + q + `,"Tags":` + jsonTags(51) + `}`, "InvalidParameterValue"},
		{"json untag aws: key", "UntagQueue", `{` + q + `,"TagKeys":["aws:x"]}`, "InvalidParameterValue"},
		// JSON: listing.
		{"json ListQueues MaxResults 1001", "ListQueues", `{"MaxResults":1001}`, "InvalidParameterValue"},
		{"json ListQueues MaxResults 0", "ListQueues", `{"MaxResults":0}`, "InvalidParameterValue"},
		{"json ListDeadLetterSourceQueues MaxResults 0", "ListDeadLetterSourceQueues", `{"QueueUrl":"{dlq}","MaxResults":0}`, "InvalidParameterValue"},
		// JSON: message move tasks.
		// StartMessageMoveTask's documented errors are ResourceNotFoundException,
		// UnsupportedOperation, RequestThrottled, InvalidAddress and
		// InvalidSecurity (API Reference): an ARN that names no queue, or no
		// dead-letter queue, is ResourceNotFoundException.
		{"json move from a non-ARN", "StartMessageMoveTask", `{"SourceArn":"not-an-arn"}`, "ResourceNotFoundException"},
		{"json move from missing queue", "StartMessageMoveTask", `{"SourceArn":"{missingarn}"}`, "ResourceNotFoundException"},
		{"json move from a queue that is no DLQ", "StartMessageMoveTask", `{"SourceArn":"{stdarn}"}`, "InvalidParameterValue"},
		{"json move rate 501", "StartMessageMoveTask", `{"SourceArn":"{dlqarn}","MaxNumberOfMessagesPerSecond":501}`, "InvalidParameterValue"},
		{"json move to a non-ARN", "StartMessageMoveTask", `{"SourceArn":"{dlqarn}","DestinationArn":"queue"}`, "ResourceNotFoundException"},
		// A handle that does not decode is a bad parameter value.
		{"json cancel unknown task", "CancelMessageMoveTask", `{"TaskHandle":"bm9wZQ=="}`, "InvalidParameterValue"},
		{"json list tasks MaxResults 11", "ListMessageMoveTasks", `{"SourceArn":"{dlqarn}","MaxResults":11}`, "InvalidParameterValue"},
		// JSON: permissions.
		{"json AddPermission unknown action", "AddPermission", `{` + q + `,"Label":"l","AWSAccountIds":["111122223333"],"Actions":["Frobnicate"]}`, "InvalidParameterValue"},
		{"json RemovePermission unknown label", "RemovePermission", `{` + q + `,"Label":"nope"}`, "InvalidParameterValue"},

		// Query protocol: forms that do not parse, actions.
		{"query no Action", "", `QueueName=x`, "UnknownOperation"},
		{"query unknown Action", "", `Action=Frobnicate`, "InvalidAction"},
		{"query JSON action name", "", `Action=AmazonSQS.ListQueues`, "InvalidAction"},
		{"query bad percent escape", "", `Action=ListQueues&x=%zz`, "MalformedQueryString"},
		{"query semicolon", "", `Action=ListQueues;QueueNamePrefix=x`, "MalformedQueryString"},
		{"query SendMessage over the request limit", "", `Action=SendMessage&QueueUrl={std}&MessageBody=` + huge, "InvalidParameterValue"},
		{"query SendMessageBatch over the request limit", "", `Action=SendMessageBatch&QueueUrl={std}&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=` + huge, "BatchRequestTooLong"},
		// A QueueUrl whose path names no queue names a queue that does not exist.
		{"query QueueUrl not a URL", "", `Action=SendMessage&QueueUrl=notaurl&MessageBody=x`, "QueueDoesNotExist"},
		// Query: values that are not integers.
		{"query integer word", "", `Action=ReceiveMessage&QueueUrl={std}&MaxNumberOfMessages=ten`, "InvalidParameterValue"},
		{"query integer overflow", "", `Action=ReceiveMessage&QueueUrl={std}&VisibilityTimeout=99999999999999999999`, "InvalidParameterValue"},
		{"query integer fraction", "", `Action=ChangeMessageVisibility&QueueUrl={std}&ReceiptHandle={rh}&VisibilityTimeout=1.5`, "InvalidParameterValue"},
		{"query empty integer", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&DelaySeconds=`, "InvalidParameterValue"},
		// Query: missing parameters.
		{"query CreateQueue without QueueName", "", `Action=CreateQueue`, "MissingParameter"},
		{"query SendMessage without QueueUrl", "", `Action=SendMessage&MessageBody=x`, "MissingParameter"},
		{"query SendMessage without MessageBody", "", `Action=SendMessage&QueueUrl={std}`, "MissingParameter"},
		{"query DeleteMessage without ReceiptHandle", "", `Action=DeleteMessage&QueueUrl={std}`, "MissingParameter"},
		{"query ChangeMessageVisibility without VisibilityTimeout", "", `Action=ChangeMessageVisibility&QueueUrl={std}&ReceiptHandle={rh}`, "MissingParameter"},
		{"query attribute without Name", "", `Action=CreateQueue&QueueName=new&Attribute.1.Value=3`, "MissingParameter"},
		{"query message attribute without Name", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v`, "MissingParameter"},
		// A form entry without Id has the empty Id.
		{"query batch entry without Id", "", `Action=SendMessageBatch&QueueUrl={std}&SendMessageBatchRequestEntry.1.MessageBody=x`, "InvalidBatchEntryId"},
		{"query SetQueueAttributes without attributes", "", `Action=SetQueueAttributes&QueueUrl={std}`, "MissingParameter"},
		{"query AddPermission without accounts", "", `Action=AddPermission&QueueUrl={std}&Label=l&ActionName.1=SendMessage`, "MissingParameter"},
		// Query: queues that do not exist.
		{"query missing queue", "", `Action=PurgeQueue&QueueUrl={missing}`, "QueueDoesNotExist"},
		{"query receive from missing queue", "", `Action=ReceiveMessage&QueueUrl={missing}`, "QueueDoesNotExist"},
		{"query GetQueueUrl of missing queue", "", `Action=GetQueueUrl&QueueName=missing`, "QueueDoesNotExist"},
		// Query: batches.
		{"query empty batch", "", `Action=DeleteMessageBatch&QueueUrl={std}`, "EmptyBatchRequest"},
		{"query 11 entries", "", `Action=SendMessageBatch&QueueUrl={std}` + formEntries("SendMessageBatchRequestEntry", 11, "MessageBody=x"), "TooManyEntriesInBatchRequest"},
		{"query 11 visibility entries", "", `Action=ChangeMessageVisibilityBatch&QueueUrl={std}` + formEntries("ChangeMessageVisibilityBatchRequestEntry", 11, "ReceiptHandle={rh}&VisibilityTimeout=1"), "TooManyEntriesInBatchRequest"},
		{"query repeated ids", "", `Action=SendMessageBatch&QueueUrl={std}&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=a&SendMessageBatchRequestEntry.2.MessageBody=y`, "BatchEntryIdsNotDistinct"},
		{"query empty id", "", `Action=SendMessageBatch&QueueUrl={std}&SendMessageBatchRequestEntry.1.Id=&SendMessageBatchRequestEntry.1.MessageBody=x`, "InvalidBatchEntryId"},
		{"query id with a dot", "", `Action=DeleteMessageBatch&QueueUrl={std}&DeleteMessageBatchRequestEntry.1.Id=a.b&DeleteMessageBatchRequestEntry.1.ReceiptHandle={rh}`, "InvalidBatchEntryId"},
		{"query id of 81", "", `Action=ChangeMessageVisibilityBatch&QueueUrl={std}&ChangeMessageVisibilityBatchRequestEntry.1.Id=` + long + `&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle={rh}&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=1`, "InvalidBatchEntryId"},
		{"query batch over 1 MiB", "", `Action=SendMessageBatch&QueueUrl={std}&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=` + half + `&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=` + half, "BatchRequestTooLong"},
		// Query: message bodies and attributes.
		{"query body with NUL", "", `Action=SendMessage&QueueUrl={std}&MessageBody=a%00b`, "InvalidMessageContents"},
		{"query body invalid UTF-8", "", `Action=SendMessage&QueueUrl={std}&MessageBody=%C3%28`, "InvalidMessageContents"},
		{"query body surrogate", "", `Action=SendMessage&QueueUrl={std}&MessageBody=%ED%A0%80`, "InvalidMessageContents"},
		{"query body over 1 MiB", "", `Action=SendMessage&QueueUrl={std}&MessageBody=` + mib + "x", "InvalidParameterValue"},
		{"query attribute type unknown", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Float&MessageAttribute.1.Value.StringValue=1`, "InvalidParameterValue"},
		{"query attribute without value", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String`, "InvalidParameterValue"},
		{"query Binary attribute bad base64", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=%21%21`, "InvalidParameterValue"},
		{"query repeated attribute name", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v&MessageAttribute.2.Name=a&MessageAttribute.2.Value.DataType=String&MessageAttribute.2.Value.StringValue=w`, "InvalidParameterValue"},
		{"query attribute name AWS.", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageAttribute.1.Name=AWS.x&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v`, "InvalidParameterValue"},
		{"query DelaySeconds 901", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&DelaySeconds=901`, "InvalidParameterValue"},
		// Query: receipt handles, visibility and receive ranges.
		{"query garbage receipt handle", "", `Action=DeleteMessage&QueueUrl={std}&ReceiptHandle=garbage`, "ReceiptHandleIsInvalid"},
		{"query VisibilityTimeout 43201", "", `Action=ChangeMessageVisibility&QueueUrl={std}&ReceiptHandle={rh}&VisibilityTimeout=43201`, "InvalidParameterValue"},
		{"query MaxNumberOfMessages 11", "", `Action=ReceiveMessage&QueueUrl={std}&MaxNumberOfMessages=11`, "InvalidParameterValue"},
		{"query WaitTimeSeconds 21", "", `Action=ReceiveMessage&QueueUrl={std}&WaitTimeSeconds=21`, "InvalidParameterValue"},
		{"query receive VisibilityTimeout -1", "", `Action=ReceiveMessage&QueueUrl={std}&VisibilityTimeout=-1`, "InvalidParameterValue"},
		// Query: FIFO parameters.
		{"query dedup id on standard", "", `Action=SendMessage&QueueUrl={std}&MessageBody=x&MessageDeduplicationId=d`, "InvalidParameterValue"},
		{"query FIFO without group", "", `Action=SendMessage&QueueUrl={fifo}&MessageBody=x&MessageDeduplicationId=d`, "MissingParameter"},
		{"query FIFO without dedup id", "", `Action=SendMessage&QueueUrl={fifo}&MessageBody=x&MessageGroupId=g`, "InvalidParameterValue"},
		{"query FIFO per-message delay", "", `Action=SendMessage&QueueUrl={fifo}&MessageBody=x&MessageGroupId=g&MessageDeduplicationId=d&DelaySeconds=1`, "InvalidParameterValue"},
		// Query: queue names and attributes.
		{"query queue name with slash", "", `Action=CreateQueue&QueueName=a%2Fb`, "InvalidParameterValue"},
		{"query existing name, other attributes", "", `Action=CreateQueue&QueueName=std&Attribute.1.Name=DelaySeconds&Attribute.1.Value=7`, "QueueNameExists"},
		{"query unknown queue attribute", "", `Action=SetQueueAttributes&QueueUrl={std}&Attribute.1.Name=Colour&Attribute.1.Value=red`, "InvalidAttributeName"},
		{"query VisibilityTimeout attribute -1", "", `Action=SetQueueAttributes&QueueUrl={std}&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=-1`, "InvalidAttributeValue"},
		{"query MaximumMessageSize over 1 MiB", "", `Action=SetQueueAttributes&QueueUrl={std}&Attribute.1.Name=MaximumMessageSize&Attribute.1.Value=1048577`, "InvalidAttributeValue"},
		{"query unknown attribute in Get", "", `Action=GetQueueAttributes&QueueUrl={std}&AttributeName.1=Colour`, "InvalidAttributeName"},
		{"query Policy not JSON", "", `Action=SetQueueAttributes&QueueUrl={std}&Attribute.1.Name=Policy&Attribute.1.Value=nope`, "InvalidAttributeValue"},
		// maxReceiveCount defaults to 10 (API Reference); the target is
		// required.
		{"query RedrivePolicy without target", "", `Action=SetQueueAttributes&QueueUrl={std}&Attribute.1.Name=RedrivePolicy&Attribute.1.Value=` + url.QueryEscape(`{"maxReceiveCount":3}`), "InvalidParameterValue"},
		// Query: tags.
		{"query tag without key", "", `Action=TagQueue&QueueUrl={std}&Tag.1.Value=v`, "MissingParameter"},
		{"query tag key aws:", "", `Action=TagQueue&QueueUrl={std}&Tag.1.Key=aws%3Ax&Tag.1.Value=v`, "InvalidParameterValue"},
		{"query TagQueue without tags", "", `Action=TagQueue&QueueUrl={std}`, "MissingParameter"},
		// Query: listing, move tasks, permissions.
		{"query ListQueues MaxResults 1001", "", `Action=ListQueues&MaxResults=1001`, "InvalidParameterValue"},
		{"query move from missing queue", "", `Action=StartMessageMoveTask&SourceArn={missingarn}`, "ResourceNotFoundException"},
		{"query move from a non-SQS ARN", "", `Action=StartMessageMoveTask&SourceArn=arn%3Aaws%3As3%3A%3A%3Abucket`, "ResourceNotFoundException"},
		{"query move rate 0", "", `Action=StartMessageMoveTask&SourceArn={dlqarn}&MaxNumberOfMessagesPerSecond=0`, "InvalidParameterValue"},
		{"query AddPermission bad account", "", `Action=AddPermission&QueueUrl={std}&Label=l&AWSAccountId.1=abc&ActionName.1=SendMessage`, "InvalidParameterValue"},
		{"query RemovePermission unknown label", "", `Action=RemovePermission&QueueUrl={std}&Label=nope`, "InvalidParameterValue"},
	}
}

// queueState is what a malformed request must not change: every queue's
// attributes (message counts, configuration), tags and the queue list.
type queueState struct {
	Queues []string
	Attrs  map[string]map[string]string
	Tags   map[string]map[string]string
}

// snapshot reads the state from the engine directly (a request per queue
// over HTTP for each of 190 cases would make the test slow).
func snapshot(t *testing.T, e *env) queueState {
	t.Helper()
	lq, err := e.eng.ListQueues(e.ctx, backend.ListQueuesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s := queueState{Queues: lq.QueueURLs, Attrs: map[string]map[string]string{}, Tags: map[string]map[string]string{}}
	slices.Sort(s.Queues)
	for _, u := range s.Queues {
		a, err := e.eng.GetAttributes(e.ctx, u, []string{"All"})
		if err != nil {
			t.Fatal(err)
		}
		s.Attrs[u] = a
		tg, err := e.eng.ListTags(e.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		s.Tags[u] = tg
	}
	return s
}

// TestMalformedRequests sends more than 100 malformed requests in the two
// protocols and checks that each gets exactly SQS's error (status, JSON
// __type and x-amzn-query-error, or the query protocol's Code and Type)
// and that no queue changed: attributes (message counts among them),
// tags and the queue list, and, at the end, the seeded messages are all
// there, received once each.
func TestMalformedRequests(t *testing.T) {
	e := newEnv(t)
	std := e.createQueue(t, "std", nil)
	fifo := e.createQueue(t, "f.fifo", map[string]string{"FifoQueue": "true"})
	dlq := e.createQueue(t, "dlq", nil)
	if _, err := e.client.SetQueueAttributes(e.ctx, &sqs.SetQueueAttributesInput{QueueUrl: &std, Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":5}`,
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.TagQueue(e.ctx, &sqs.TagQueueInput{QueueUrl: &std, Tags: map[string]string{"team": "core"}}); err != nil {
		t.Fatal(err)
	}
	seeded := map[string][]string{std: {"s1", "s2", "s3"}, fifo: {"f1", "f2"}, dlq: {"d1"}}
	for u, bodies := range seeded {
		for i, b := range bodies {
			in := &sqs.SendMessageInput{QueueUrl: &u, MessageBody: &b}
			if u == fifo {
				in.MessageGroupId, in.MessageDeduplicationId = aws.String("g"), aws.String(fmt.Sprint(i))
			}
			if _, err := e.client.SendMessage(e.ctx, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One message of std in flight, for a live receipt handle.
	rcv, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: &std, VisibilityTimeout: 600})
	if err != nil || len(rcv.Messages) != 1 {
		t.Fatalf("receive: %v %v", rcv, err)
	}
	inflight := *rcv.Messages[0].Body
	vals := map[string]string{
		"std": std, "fifo": fifo, "dlq": dlq, "missing": e.hs.URL + "/000000000000/missing",
		"stdarn": "arn:aws:sqs:us-east-1:000000000000:std", "dlqarn": "arn:aws:sqs:us-east-1:000000000000:dlq",
		"missingarn": "arn:aws:sqs:us-east-1:000000000000:missing", "rh": *rcv.Messages[0].ReceiptHandle,
	}

	cases := malformedCases()
	if len(cases) < 100 {
		t.Fatalf("%d cases; the table must hold at least 100", len(cases))
	}
	var nJSON, nQuery int
	before := snapshot(t, e)
	for _, c := range cases {
		if c.action != "" {
			nJSON++
		} else {
			nQuery++
		}
		want, ok := sqsWire[c.code]
		if !ok {
			t.Fatalf("%s: code %s is not in sqsWire", c.name, c.code)
		}
		t.Run(c.name, func(t *testing.T) {
			body := c.render(vals)
			hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			if c.action != "" {
				hdr = map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + c.action}
			}
			resp, b := rawPost(t, e.hs.URL+"/", hdr, body)
			short := b
			if len(short) > 300 {
				short = short[:300] + "..."
			}
			if resp.StatusCode != want.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, want.status, short)
			}
			rid := resp.Header.Get("X-Amzn-Requestid")
			if rid == "" {
				t.Error("no x-amzn-RequestId")
			}
			if c.action != "" {
				var jb struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal([]byte(b), &jb); err != nil {
					t.Fatalf("answer %q: %v", short, err)
				}
				if jb.Type != want.jsonType || jb.Message == "" {
					t.Errorf("__type %q, want %q (%s)", jb.Type, want.jsonType, short)
				}
				if h := resp.Header.Get("X-Amzn-Query-Error"); h != want.queryCode+";Sender" {
					t.Errorf("x-amzn-query-error %q, want %q", h, want.queryCode+";Sender")
				}
				return
			}
			var er xmlErrorResponse
			if err := xml.Unmarshal([]byte(b), &er); err != nil {
				t.Fatalf("answer %q: %v", short, err)
			}
			if er.Code != want.queryCode || er.Type != "Sender" || er.Message == "" || er.ID != rid {
				t.Errorf("ErrorResponse %+v, want Code %q, Type Sender", er, want.queryCode)
			}
		})
		if after := snapshot(t, e); !reflect.DeepEqual(before, after) {
			t.Errorf("%s changed the queues:\nbefore %+v\nafter  %+v", c.name, before, after)
			before = after
		}
	}
	t.Logf("%d malformed requests: %d JSON, %d query", len(cases), nJSON, nQuery)

	// Every seeded message is still there: receive them all, once each.
	got := map[string][]string{}
	for u := range seeded {
		for {
			out, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: &u, MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				break
			}
			for _, m := range out.Messages {
				got[u] = append(got[u], *m.Body)
				if _, err := e.client.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: &u, ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	got[std] = append(got[std], inflight)
	for u := range got {
		slices.Sort(got[u])
	}
	if !maps.EqualFunc(got, seeded, slices.Equal) {
		t.Fatalf("messages after the malformed requests: %v, want %v", got, seeded)
	}
}
