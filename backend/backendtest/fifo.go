package backendtest

import (
	"errors"
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// FIFO queues: names and the FifoQueue attribute, deduplication, message
// groups and their order and locking, sequence numbers, receive attempts,
// delays, the high-throughput settings, the in-flight limit, and
// concurrent consumers. The authority is the SQS API Reference
// (CreateQueue, SendMessage, ReceiveMessage) and the Developer Guide's
// "FIFO queue delivery logic" and "Exactly-once processing" pages.
func fifoScenarios() []scenario {
	return []scenario{
		{name: "NameAndAttribute", needs: capFIFO, run: testFIFONameAndAttribute},
		{name: "FIFOOnlyAttributesOnStandard", needs: capFIFO, run: testFIFOOnlyAttributesOnStandard},
		{name: "DeduplicationIDOnStandard", run: testDeduplicationIDOnStandard},
		{name: "ContentBasedDeduplication", needs: capFIFO, run: testContentBasedDeduplication},
		{name: "ExplicitDeduplicationID", needs: capFIFO, run: testExplicitDeduplicationID},
		{name: "DeduplicationWindow", needs: capFIFO, run: testDeduplicationWindow},
		{name: "EmptyDeduplicationID", needs: capFIFO, run: testEmptyDeduplicationID},
		{name: "PurgeClearsDeduplication", needs: capFIFO, run: testPurgeClearsDeduplication},
		{name: "MessageGroupIDRequired", needs: capFIFO, run: testMessageGroupIDRequired},
		{name: "SequenceNumber", needs: capFIFO, run: testSequenceNumber},
		{name: "OrderWithinGroup", needs: capFIFO, run: testOrderWithinGroup},
		{name: "ReceiveTakesOneGroupFirst", needs: capFIFO, run: testReceiveTakesOneGroupFirst},
		{name: "ReceiveSpreadsAcrossGroups", needs: capFIFO, run: testReceiveSpreadsAcrossGroups},
		{name: "GroupLocking", needs: capFIFO, run: testGroupLocking},
		{name: "GroupLockingPartialRelease", needs: capFIFO, run: testGroupLockingPartialRelease},
		{name: "HeadRedeliveredWhileLaterInFlight", needs: capFIFO, run: testFIFOHeadRedelivered},
		{name: "ExpiredHandle", needs: capFIFO, run: testFIFOExpiredHandle},
		{name: "ReceiveRequestAttemptID", needs: capFIFO, run: testReceiveRequestAttemptID},
		{name: "ReceiveRequestAttemptIDInvalidated", needs: capFIFO, run: testReceiveRequestAttemptIDInvalidated},
		{name: "ReceiveRequestAttemptIDValidation", needs: capFIFO, run: testReceiveRequestAttemptIDValidation},
		{name: "PerMessageDelay", needs: capFIFO, run: testFIFOPerMessageDelay},
		{name: "QueueDelay", needs: capFIFO, run: testFIFOQueueDelay},
		{name: "HighThroughputAttributes", needs: capFIFO, run: testHighThroughputAttributes},
		{name: "DeduplicationPerGroup", needs: capFIFO, run: testDeduplicationPerGroup},
		{name: "InflightLimit", needs: capFIFO, run: testFIFOInflightLimit},
		{name: "ConcurrentConsumers", needs: capFIFO, run: testFIFOConcurrentConsumers},
	}
}

// fifoSystemNames are the FIFO system attributes of a received message.
var fifoSystemNames = []string{"MessageGroupId", "MessageDeduplicationId", "SequenceNumber", "ApproximateReceiveCount"}

// receiveFIFO receives up to n messages with the FIFO system attributes.
func (e *env) receiveFIFO(url string, n int) []*backend.Message {
	e.Helper()
	return e.receive(url, backend.ReceiveRequest{MaxMessages: n, WaitTimeSeconds: new(0), SystemAttributeNames: fifoSystemNames})
}

// bodiesInOrder returns the bodies of msgs in the order received.
func bodiesInOrder(msgs []*backend.Message) []string {
	b := make([]string, len(msgs))
	for i, m := range msgs {
		b[i] = m.Body
	}
	return b
}

func handlesOf(msgs []*backend.Message) []string {
	h := make([]string, len(msgs))
	for i, m := range msgs {
		h[i] = m.ReceiptHandle
	}
	return h
}

func testFIFONameAndAttribute(e *env) {
	// API Reference (CreateQueue, FifoQueue): "Designates a queue as FIFO
	// ... You can provide this attribute only during queue creation";
	// QueueName: "A FIFO queue name must end with the .fifo suffix." A
	// name and attribute that disagree are InvalidParameterValue (real SQS
	// for a .fifo name without the attribute: boto/botocore#3058).
	for _, tc := range []struct {
		name  string
		attrs backend.Attributes
	}{
		{"named.fifo", nil},
		{"named.fifo", backend.Attributes{"FifoQueue": "false"}},
		{"plain", backend.Attributes{"FifoQueue": "true"}},
		{"plain", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"}},
	} {
		_, err := e.svc().CreateQueue(e.ctx, tc.name, tc.attrs, nil)
		e.checkErr(fmt.Sprintf("CreateQueue(%q, %v)", tc.name, tc.attrs), err, backend.CodeInvalidParameterValue)
	}
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}

	url := e.createFIFO("orders.fifo")
	// The FIFO attributes and their defaults (the SQS console and real
	// GetQueueAttributes output: DeduplicationScope "queue",
	// FifoThroughputLimit "perQueue").
	e.wantAttrs(url, backend.Attributes{
		"FifoQueue":                 "true",
		"ContentBasedDeduplication": "false",
		"DeduplicationScope":        "queue",
		"FifoThroughputLimit":       "perQueue",
	})
	all := e.allAttrs(url)
	for _, k := range []string{"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit", "QueueArn", "VisibilityTimeout"} {
		if _, ok := all[k]; !ok {
			e.Errorf("GetAttributes(All) of a FIFO queue lacks %s: %v", k, all)
		}
	}
	if _, _, name, _ := arnParts(all["QueueArn"]); name != "orders.fifo" {
		e.Errorf("QueueArn %q does not name orders.fifo", all["QueueArn"])
	}
	// A standard queue reports none of the FIFO attributes.
	std := e.create("orders", nil)
	stdAll := e.allAttrs(std)
	for _, k := range []string{"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"} {
		if v, ok := stdAll[k]; ok {
			e.Errorf("GetAttributes(All) of a standard queue has %s=%q", k, v)
		}
	}
	// Creating it again with the same attributes returns the same URL.
	again, err := e.svc().CreateQueue(e.ctx, "orders.fifo", fifoAttrs(), nil)
	if err != nil || again != url {
		e.Fatalf("CreateQueue(orders.fifo) again = %q, %v; want %q", again, err, url)
	}
	_, err = e.svc().CreateQueue(e.ctx, "orders.fifo", fifoAttrs("ContentBasedDeduplication", "true"), nil)
	e.checkErr("CreateQueue(orders.fifo) again with other attributes", err, backend.CodeQueueNameExists)
	// FifoQueue cannot be changed afterwards (InvalidAttributeName, as for
	// a standard queue in the Admin group).
	before := e.allAttrs(url)
	e.checkErr("SetAttributes(FifoQueue=true) on a FIFO queue",
		e.svc().SetAttributes(e.ctx, url, backend.Attributes{"FifoQueue": "true"}), backend.CodeInvalidAttributeName)
	e.checkErr("SetAttributes(FifoQueue=false) on a FIFO queue",
		e.svc().SetAttributes(e.ctx, url, backend.Attributes{"FifoQueue": "false"}), backend.CodeInvalidAttributeName)
	if after := e.allAttrs(url); !maps.Equal(before, after) {
		e.Fatalf("rejected SetAttributes changed the queue:\n before %v\n after  %v", before, after)
	}
	// ContentBasedDeduplication can be switched at any time (real SQS:
	// localstack's recorded test_fifo_set_content_based_deduplication_strategy).
	e.setAttrs(url, backend.Attributes{"ContentBasedDeduplication": "true"})
	e.wantAttrs(url, backend.Attributes{"ContentBasedDeduplication": "true"})
	e.setAttrs(url, backend.Attributes{"ContentBasedDeduplication": "false"})
	e.wantAttrs(url, backend.Attributes{"ContentBasedDeduplication": "false"})
}

func testFIFOOnlyAttributesOnStandard(e *env) {
	// The FIFO-only attributes are unknown to a standard queue: "Unknown
	// Attribute ContentBasedDeduplication." (InvalidAttributeName), in
	// CreateQueue and SetQueueAttributes.
	for _, a := range []backend.Attributes{
		{"ContentBasedDeduplication": "true"},
		{"ContentBasedDeduplication": "false"},
		{"DeduplicationScope": "queue"},
		{"FifoThroughputLimit": "perQueue"},
	} {
		_, err := e.svc().CreateQueue(e.ctx, "std", a, nil)
		e.checkErr(fmt.Sprintf("CreateQueue(std, %v)", a), err, backend.CodeInvalidAttributeName)
	}
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}
	url := e.create("std", nil)
	before := e.allAttrs(url)
	for _, a := range []backend.Attributes{
		{"VisibilityTimeout": "9", "ContentBasedDeduplication": "true"},
		{"VisibilityTimeout": "9", "DeduplicationScope": "messageGroup"},
		{"VisibilityTimeout": "9", "FifoThroughputLimit": "perMessageGroupId"},
	} {
		e.checkErr(fmt.Sprintf("SetAttributes(%v) on a standard queue", a), e.svc().SetAttributes(e.ctx, url, a), backend.CodeInvalidAttributeName)
	}
	if after := e.allAttrs(url); !maps.Equal(before, after) {
		e.Fatalf("rejected SetAttributes changed the queue:\n before %v\n after  %v", before, after)
	}
}

func testDeduplicationIDOnStandard(e *env) {
	url := e.create("std", nil)
	// API Reference (SendMessage, MessageDeduplicationId): "This parameter
	// applies only to FIFO (first-in-first-out) queues." Real SQS answers
	// it on a standard queue with InvalidParameterValue ("The request
	// include parameter that is not valid for this queue type"). A
	// MessageGroupId is fine: it makes the queue a fair queue.
	res := e.sendBatch(url,
		backend.SendEntry{ID: "ok", Body: "plain"},
		backend.SendEntry{ID: "dedup", Body: "with dedup", MessageDeduplicationID: "d1"},
		backend.SendEntry{ID: "group", Body: "with group", MessageGroupID: "g1"})
	e.wantEntryErr("MessageDeduplicationId on a standard queue", res[1].Err, backend.CodeInvalidParameterValue)
	if res[0].Err != nil || res[2].Err != nil {
		e.Fatalf("valid entries failed next to an invalid one: %v, %v", res[0].Err, res[2].Err)
	}
	if res[2].SequenceNumber != "" {
		e.Errorf("a standard queue returned SequenceNumber %q", res[2].SequenceNumber)
	}
	e.wantBodies(url, "plain", "with group")
}

func testContentBasedDeduplication(e *env) {
	url := e.createFIFO("q.fifo", "ContentBasedDeduplication", "true")
	first := e.sendBatch(url, gm("a", "g1", "payload", ""))[0]
	if first.Err != nil {
		e.Fatalf("Send: %v", first.Err)
	}
	// API Reference (CreateQueue, ContentBasedDeduplication): "Amazon SQS
	// uses a SHA-256 hash to generate the MessageDeduplicationId using the
	// body of the message (but not the attributes of the message)." The
	// same body again, in another group and with attributes, is a
	// duplicate: SendMessage succeeds, returns the first MessageId and
	// SequenceNumber, and nothing is enqueued (MessageDeduplicationId: "any
	// messages sent with the same MessageDeduplicationId are accepted
	// successfully but aren't delivered during the 5-minute deduplication
	// interval").
	dup := e.sendBatch(url, backend.SendEntry{ID: "b", Body: "payload", MessageGroupID: "g2",
		MessageAttributes: map[string]backend.MessageAttributeValue{"k": {DataType: "String", StringValue: "v"}}})[0]
	if dup.Err != nil {
		e.Fatalf("duplicate Send failed: %v", dup.Err)
	}
	if dup.MessageID != first.MessageID || dup.SequenceNumber != first.SequenceNumber {
		e.Errorf("duplicate returned MessageId %s, SequenceNumber %s; want the first's %s, %s",
			dup.MessageID, dup.SequenceNumber, first.MessageID, first.SequenceNumber)
	}
	e.wantCounts(url, counts{Visible: 1})
	// "If you send one message with ContentBasedDeduplication enabled and
	// then another message with a MessageDeduplicationId that is the same
	// as the one generated for the first MessageDeduplicationId, the two
	// messages are treated as duplicates."
	dup2 := e.sendBatch(url, gm("c", "g3", "another body", sha256Hex("payload")))[0]
	if dup2.Err != nil || dup2.MessageID != first.MessageID {
		e.Errorf("explicit id equal to the body's SHA-256: MessageId %s (%v), want duplicate of %s", dup2.MessageID, dup2.Err, first.MessageID)
	}
	e.wantCounts(url, counts{Visible: 1})
	// "If the queue has ContentBasedDeduplication set, your
	// MessageDeduplicationId overrides the generated one."
	ids := e.sendOK(url, gm("d", "g1", "same", "x1"), gm("e", "g1", "same", "x2"))
	if ids[0] == ids[1] {
		e.Errorf("two explicit deduplication ids with one body were deduplicated")
	}
	e.wantCounts(url, counts{Visible: 3})
	// The generated id is what the consumer sees as MessageDeduplicationId
	// ("The MessageDeduplicationId is available to the consumer"). Group
	// g1 holds all three messages, in send order.
	all := e.drain(url, backend.ReceiveRequest{SystemAttributeNames: fifoSystemNames})
	if b := bodiesInOrder(all); !slices.Equal(b, []string{"payload", "same", "same"}) {
		e.Fatalf("queue delivered %v, want [payload same same]", b)
	}
	if got := all[0].Attributes["MessageDeduplicationId"]; got != sha256Hex("payload") {
		e.Errorf("content-based MessageDeduplicationId = %q, want the body's SHA-256 %s", got, sha256Hex("payload"))
	}
	if d := []string{all[1].Attributes["MessageDeduplicationId"], all[2].Attributes["MessageDeduplicationId"]}; !slices.Equal(d, []string{"x1", "x2"}) {
		e.Errorf("explicit MessageDeduplicationIds came back as %v", d)
	}
	for _, m := range all {
		if m.Attributes["MessageGroupId"] != "g1" {
			e.Errorf("message %s has MessageGroupId %q, want g1", m.Body, m.Attributes["MessageGroupId"])
		}
	}
}

func testExplicitDeduplicationID(e *env) {
	url := e.createFIFO("q.fifo")
	// Without ContentBasedDeduplication and without an id the send fails:
	// InvalidParameterValue "The queue should either have
	// ContentBasedDeduplication enabled or MessageDeduplicationId provided
	// explicitly" (real SQS, localstack's recorded
	// test_send_batch_missing_deduplication_id_for_fifo_queue).
	err := e.sendOneCode(url, gm("x", "g", "no id", ""))
	e.checkErr("Send without MessageDeduplicationId", err, backend.CodeInvalidParameterValue)
	e.wantCounts(url, counts{})
	// In a batch, one such entry fails the whole request and nothing is
	// stored (real SQS: 400, recorded for issue 19).
	res, batchErr := e.q(url).Send(e.ctx, []backend.SendEntry{gm("a", "g", "with id", "d0"), gm("b", "g", "without", "")})
	e.checkErr("batch with an entry without MessageDeduplicationId", batchErr, backend.CodeInvalidParameterValue)
	if res != nil {
		e.Errorf("a rejected Send returned results %+v", res)
	}
	e.wantCounts(url, counts{})

	first := e.sendBatch(url, gm("a", "g1", "one", "d1"))[0]
	if first.Err != nil {
		e.Fatal(first.Err)
	}
	// The same id with another body and in another group is a duplicate:
	// deduplication is per queue unless DeduplicationScope says otherwise
	// (real SQS: localstack's recorded
	// test_fifo_deduplication_not_on_message_group_id).
	for _, en := range []backend.SendEntry{gm("b", "g1", "two", "d1"), gm("c", "g2", "three", "d1")} {
		r := e.sendBatch(url, en)[0]
		if r.Err != nil {
			e.Fatalf("duplicate Send failed: %v", r.Err)
		}
		if r.MessageID != first.MessageID || r.SequenceNumber != first.SequenceNumber {
			e.Errorf("duplicate %q returned %s/%s, want %s/%s", en.Body, r.MessageID, r.SequenceNumber, first.MessageID, first.SequenceNumber)
		}
	}
	// A duplicate within one batch: the second entry returns the first's
	// id.
	res = e.sendBatch(url, gm("p", "g3", "four", "d4"), gm("q", "g3", "four again", "d4"))
	if res[0].Err != nil || res[1].Err != nil || res[0].MessageID != res[1].MessageID {
		e.Errorf("duplicate within a batch: %+v", res)
	}
	e.wantCounts(url, counts{Visible: 2})
	// Ids: 1-128 characters of alphanumerics and punctuation (API
	// Reference, SendMessage, MessageDeduplicationId); others are
	// InvalidParameterValue.
	punct := "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	for _, bad := range []string{strings.Repeat("i", backend.MaxDeduplicationIDLength+1), "has space", "tab\there", "ümlaut"} {
		err := e.sendOneCode(url, gm("x", "g", "bad id", bad))
		e.checkErr(fmt.Sprintf("MessageDeduplicationId %q", bad), err, backend.CodeInvalidParameterValue)
	}
	e.sendOK(url, gm("l", "g4", "longest", strings.Repeat("i", backend.MaxDeduplicationIDLength)), gm("p", "g4", "punct", "aZ09"+punct))
	e.wantCounts(url, counts{Visible: 4})
	got := e.drain(url, backend.ReceiveRequest{SystemAttributeNames: fifoSystemNames})
	if b := bodiesOf(got); !slices.Equal(b, []string{"four", "longest", "one", "punct"}) {
		e.Fatalf("queue delivered %v", b)
	}
	for _, m := range got {
		if m.Body == "punct" && m.Attributes["MessageDeduplicationId"] != "aZ09"+punct {
			e.Errorf("MessageDeduplicationId came back as %q", m.Attributes["MessageDeduplicationId"])
		}
	}
}

func testDeduplicationWindow(e *env) {
	url := e.createFIFO("q.fifo")
	first := e.sendBatch(url, gm("a", "g", "original", "d"))[0]
	if first.Err != nil {
		e.Fatal(first.Err)
	}
	// Received and deleted: the id is still remembered. (API Reference,
	// SendMessage: "Amazon SQS continues to keep track of the message
	// deduplication ID even after the message is received and deleted.")
	e.deleteOK(url, e.receiveOne(url).ReceiptHandle)
	e.wantCounts(url, counts{})
	e.advance(4*time.Minute + 59*time.Second)
	e.reopen()
	r := e.sendBatch(url, gm("b", "g", "resent", "d"))[0]
	if r.Err != nil || r.MessageID != first.MessageID || r.SequenceNumber != first.SequenceNumber {
		e.Errorf("resend 4m59s later: %s/%s (%v), want the original %s/%s", r.MessageID, r.SequenceNumber, r.Err, first.MessageID, first.SequenceNumber)
	}
	e.wantCounts(url, counts{})
	e.wantNone(url)

	// "If a message is sent successfully but the acknowledgement is lost
	// and the message is resent with the same MessageDeduplicationId after
	// the deduplication interval, Amazon SQS can't detect duplicate
	// messages." A second id, to keep the window's end apart from whether
	// a duplicate send extends it (the documentation does not say).
	second := e.sendBatch(url, gm("c", "g", "second", "e"))[0]
	e.advance(5*time.Minute + time.Second)
	late := e.sendBatch(url, gm("d", "g", "second, late", "e"))[0]
	if late.Err != nil {
		e.Fatal(late.Err)
	}
	if late.MessageID == second.MessageID {
		e.Errorf("a send 5 minutes after the original was deduplicated")
	}
	if a, b := mustSeq(e, second.SequenceNumber), mustSeq(e, late.SequenceNumber); a.Cmp(b) >= 0 {
		e.Errorf("SequenceNumber %s after %s", late.SequenceNumber, second.SequenceNumber)
	}
	got := e.drain(url, backend.ReceiveRequest{})
	if b := bodiesInOrder(got); !slices.Equal(b, []string{"second", "second, late"}) {
		e.Fatalf("queue delivered %v, want [second, second, late]", b)
	}
}

func mustSeq(e *env, s string) *big.Int {
	e.Helper()
	n, ok := parseSeq(s)
	if !ok {
		e.Fatalf("SequenceNumber %q is not a decimal of at most 128 bits", s)
	}
	return n
}

func testEmptyDeduplicationID(e *env) {
	// An empty MessageDeduplicationId is invalid even where content-based
	// deduplication would supply one; real SQS's message, recorded for
	// issue 19, has two spaces after "Value". An empty MessageGroupId
	// likewise. Each fails its entry alone.
	for _, contentDedup := range []string{"false", "true"} {
		url := e.createFIFO("q"+contentDedup+".fifo", "ContentBasedDeduplication", contentDedup)
		empty := gm("x", "g", "empty id", "")
		empty.MessageDeduplicationIDSet = true
		err := e.sendOneCode(url, empty)
		e.checkErr("Send with MessageDeduplicationId \"\"", err, backend.CodeInvalidParameterValue)
		e.wantMessage("Send with MessageDeduplicationId \"\"", err,
			"Value  for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		noGroup := gm("y", "", "empty group", "d")
		noGroup.MessageGroupIDSet = true
		err = e.sendOneCode(url, noGroup)
		e.checkErr("Send with MessageGroupId \"\"", err, backend.CodeInvalidParameterValue)
		res := e.sendBatch(url, gm("a", "g", "fine", "d1"), empty, noGroup)
		if res[0].Err != nil {
			e.Fatalf("valid entry next to empty ids: %v", res[0].Err)
		}
		e.wantEntryErr("batch entry with MessageDeduplicationId \"\"", res[1].Err, backend.CodeInvalidParameterValue)
		e.wantEntryErr("batch entry with MessageGroupId \"\"", res[2].Err, backend.CodeInvalidParameterValue)
		e.wantCounts(url, counts{Visible: 1})
	}
}

func testPurgeClearsDeduplication(e *env) {
	url := e.createFIFO("q.fifo", "ContentBasedDeduplication", "true")
	first := e.sendBatch(url, gm("a", "g", "before", "d1"), gm("b", "g", "by content", ""))
	e.wantCounts(url, counts{Visible: 2})
	if err := e.svc().Purge(e.ctx, url); err != nil {
		e.Fatalf("Purge: %v", err)
	}
	e.reopen()
	// PurgeQueue clears the deduplication history too: real SQS delivered
	// a send with the same deduplication id right after a purge (recorded
	// for issue 19), with a new message id.
	after := e.sendBatch(url, gm("a", "g", "after", "d1"), gm("b", "g", "by content", ""))
	for i, r := range after {
		if r.Err != nil {
			e.Fatalf("send %s after the purge: %v", r.ID, r.Err)
		}
		if r.MessageID == first[i].MessageID {
			e.Errorf("send %s after the purge was deduplicated against the purged message %s", r.ID, r.MessageID)
		}
	}
	got := e.drain(url, backend.ReceiveRequest{})
	if b := bodiesInOrder(got); !slices.Equal(b, []string{"after", "by content"}) {
		e.Fatalf("queue delivered %v, want [after, by content]", b)
	}
	// The new sends are remembered as usual.
	if r := e.sendBatch(url, gm("a", "g", "again", "d1"))[0]; r.Err != nil || r.MessageID != after[0].MessageID {
		e.Fatalf("duplicate of a send after the purge: %+v, want message %s", r, after[0].MessageID)
	}
	e.wantCounts(url, counts{})
}

func testMessageGroupIDRequired(e *env) {
	url := e.createFIFO("q.fifo", "ContentBasedDeduplication", "true")
	// API Reference (SendMessage, MessageGroupId): "If you do not provide
	// a MessageGroupId when sending a message to a FIFO queue, the action
	// fails." Real SQS answers SendMessage with MissingParameter ("The
	// request must contain the parameter MessageGroupId.") and a
	// SendMessageBatch entry with InvalidParameterValue and the same
	// message (localstack's recorded
	// test_send_batch_missing_message_group_id_for_fifo_queue); a backend
	// may give either.
	err := e.sendOneCode(url, backend.SendEntry{ID: "x", Body: "no group"})
	if e.checkErr("Send without MessageGroupId", err, backend.CodeMissingParameter, backend.CodeInvalidParameterValue) &&
		!strings.Contains(err.Error(), "MessageGroupId") {
		e.Errorf("the error %q does not name MessageGroupId", err.Error())
	}
	// MessageGroupId: up to 128 alphanumerics and punctuation.
	for _, bad := range []string{strings.Repeat("g", backend.MaxGroupIDLength+1), "a b", "ünï"} {
		err := e.sendOneCode(url, backend.SendEntry{ID: "x", Body: "bad group " + bad, MessageGroupID: bad})
		e.checkErr(fmt.Sprintf("MessageGroupId %q", bad), err, backend.CodeInvalidParameterValue)
	}
	e.wantCounts(url, counts{})
	// In a batch an entry without a group fails the whole request and
	// nothing is stored (real SQS: 400, recorded for issue 19).
	res, batchErr := e.q(url).Send(e.ctx, []backend.SendEntry{
		{ID: "a", Body: "before", MessageGroupID: "g"},
		{ID: "b", Body: "groupless"},
		{ID: "c", Body: "after", MessageGroupID: "g"}})
	e.checkErr("batch with an entry without MessageGroupId", batchErr, backend.CodeMissingParameter)
	if res != nil {
		e.Errorf("a rejected Send returned results %+v", res)
	}
	e.wantCounts(url, counts{})
	e.sendOK(url, backend.SendEntry{ID: "a", Body: "before", MessageGroupID: "g"},
		backend.SendEntry{ID: "c", Body: "after", MessageGroupID: "g"})
	long := strings.Repeat("g", backend.MaxGroupIDLength)
	e.sendOK(url, backend.SendEntry{ID: "l", Body: "long group", MessageGroupID: long},
		backend.SendEntry{ID: "p", Body: "punct group", MessageGroupID: "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"})
	got := e.drain(url, backend.ReceiveRequest{SystemAttributeNames: []string{"MessageGroupId"}})
	if b := bodiesOf(got); !slices.Equal(b, []string{"after", "before", "long group", "punct group"}) {
		e.Fatalf("queue delivered %v", b)
	}
	for _, m := range got {
		if m.Body == "long group" && m.Attributes["MessageGroupId"] != long {
			e.Errorf("MessageGroupId came back as %q", m.Attributes["MessageGroupId"])
		}
	}
}

func testSequenceNumber(e *env) {
	a := e.createFIFO("a.fifo")
	b := e.createFIFO("b.fifo")
	// API Reference (SendMessage, SequenceNumber): "The large,
	// non-consecutive number that Amazon SQS assigns to each message. The
	// length of SequenceNumber is 128 bits. SequenceNumber continues to
	// increase for a particular MessageGroupId." Here: a decimal string,
	// strictly increasing in send order across the queue's groups.
	var prev *big.Int
	seqs := map[string]string{}
	for batch := range 5 {
		var es []backend.SendEntry
		for i := range 7 {
			body := fmt.Sprintf("m%d-%d", batch, i)
			es = append(es, gm(entryID(i), fmt.Sprintf("g%d", i%3), body, body))
		}
		for i, r := range e.sendBatch(a, es...) {
			if r.Err != nil {
				e.Fatal(r.Err)
			}
			n := mustSeq(e, r.SequenceNumber)
			if prev != nil && n.Cmp(prev) <= 0 {
				e.Errorf("SequenceNumber %s does not exceed the previous %s", n, prev)
			}
			prev = n
			seqs[es[i].Body] = r.SequenceNumber
		}
		// Another queue's sends do not disturb this one's order.
		e.sendOK(b, gm("x", "g", fmt.Sprintf("other%d", batch), fmt.Sprintf("other%d", batch)))
	}
	// A duplicate returns the original's number.
	r := e.sendBatch(a, gm("d", "g9", "dup", "m0-0"))[0]
	if r.SequenceNumber != seqs["m0-0"] {
		e.Errorf("duplicate SequenceNumber %s, want %s", r.SequenceNumber, seqs["m0-0"])
	}
	// The received messages carry the numbers assigned on send.
	for _, m := range e.drain(a, backend.ReceiveRequest{SystemAttributeNames: []string{"SequenceNumber"}}) {
		if m.Attributes["SequenceNumber"] != seqs[m.Body] {
			e.Errorf("message %s: SequenceNumber %q, sent as %q", m.Body, m.Attributes["SequenceNumber"], seqs[m.Body])
		}
	}
}

func testOrderWithinGroup(e *env) {
	url := e.createFIFO("q.fifo")
	// Developer Guide (FIFO queue delivery logic): "Within each message
	// group ID, all messages are sent and received in strict order." Two
	// groups interleaved over several batches.
	want := map[string][]string{}
	for batch := range 6 {
		var es []backend.SendEntry
		for i := range 10 {
			g := []string{"A", "B"}[i%2]
			body := fmt.Sprintf("%s-%02d", g, batch*5+i/2)
			want[g] = append(want[g], body)
			es = append(es, gm(entryID(i), g, body, body))
		}
		e.sendOK(url, es...)
	}
	got := map[string][]string{}
	for i := range 100 {
		msgs := e.receiveFIFO(url, 1+i%10)
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			g := m.Attributes["MessageGroupId"]
			got[g] = append(got[g], m.Body)
		}
		e.deleteOK(url, handlesOf(msgs)...)
	}
	for _, g := range []string{"A", "B"} {
		if !slices.Equal(got[g], want[g]) {
			e.Errorf("group %s delivered %v, want %v", g, got[g], want[g])
		}
	}
}

func testReceiveTakesOneGroupFirst(e *env) {
	url := e.createFIFO("q.fifo")
	// 25 messages in each of two groups, sent interleaved.
	for batch := range 5 {
		var es []backend.SendEntry
		for i := range 10 {
			g := []string{"A", "B"}[i/5]
			body := fmt.Sprintf("%s-%02d", g, batch*5+i%5)
			es = append(es, gm(entryID(i), g, body, body))
		}
		e.sendOK(url, es...)
	}
	// Developer Guide (FIFO queue delivery logic, Receiving messages):
	// "When receiving messages from a FIFO queue with multiple message
	// group IDs, Amazon SQS attempts to return as many messages with the
	// same message group ID as possible in a single call", and "you cannot
	// receive additional messages from the same message group ID in
	// subsequent requests unless the currently received messages are
	// deleted, or they become visible again".
	first := e.receiveFIFO(url, 10)
	if len(first) != 10 {
		e.Fatalf("first receive returned %d messages, want 10 of one group", len(first))
	}
	g := first[0].Attributes["MessageGroupId"]
	if want := numberedGroup(g, 0, 10); !slices.Equal(bodiesInOrder(first), want) {
		e.Fatalf("first receive returned %v, want %v", bodiesInOrder(first), want)
	}
	other := map[string]string{"A": "B", "B": "A"}[g]
	second := e.receiveFIFO(url, 10)
	if want := numberedGroup(other, 0, 10); !slices.Equal(bodiesInOrder(second), want) {
		e.Fatalf("second receive returned %v, want %v (group %s is locked)", bodiesInOrder(second), want, g)
	}
	e.wantNone(url) // both groups locked
	e.wantCounts(url, counts{Visible: 30, InFlight: 20})
	e.deleteOK(url, handlesOf(first)...)
	third := e.receiveFIFO(url, 10)
	if want := numberedGroup(g, 10, 20); !slices.Equal(bodiesInOrder(third), want) {
		e.Fatalf("after deleting group %s's batch, receive returned %v, want %v", g, bodiesInOrder(third), want)
	}
	// Five left in g: a receive of ten returns them.
	e.deleteOK(url, handlesOf(third)...)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, numberedGroup(g, 20, 25)) {
		e.Fatalf("receive returned %v, want %v", got, numberedGroup(g, 20, 25))
	}
}

func numberedGroup(g string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%02d", g, i))
	}
	return out
}

func testReceiveSpreadsAcrossGroups(e *env) {
	url := e.createFIFO("q.fifo")
	var es []backend.SendEntry
	for i := range 10 {
		g := fmt.Sprintf("g%d", i/2)
		body := fmt.Sprintf("%s-%d", g, i%2)
		es = append(es, gm(entryID(i), g, body, body))
	}
	e.sendOK(url, es...)
	// Developer Guide (FIFO queue delivery logic): "If fewer than 10
	// messages are available for the same message group ID, Amazon SQS
	// may include messages from other message group IDs in the same batch,
	// but each group retains FIFO order." Five groups of two: one receive
	// of ten returns all of them, each group in order.
	msgs := e.receiveFIFO(url, 10)
	if len(msgs) != 10 {
		e.Fatalf("receive of 10 over five groups of 2 returned %d messages", len(msgs))
	}
	pos := map[string]int{}
	for i, m := range msgs {
		pos[m.Body] = i
	}
	for g := range 5 {
		a, b := fmt.Sprintf("g%d-0", g), fmt.Sprintf("g%d-1", g)
		if pos[a] > pos[b] {
			e.Errorf("group g%d out of order in %v", g, bodiesInOrder(msgs))
		}
	}
	e.wantNone(url)
}

func testGroupLocking(e *env) {
	url := e.createFIFO("q.fifo")
	e.sendOK(url, groupEntries("A", "a1", "a2", "a3")...)
	// API Reference (ReceiveMessage, ReceiveRequestAttemptId): "While
	// messages with a particular MessageGroupId are invisible, no more
	// messages belonging to the same MessageGroupId are returned until the
	// visibility timeout expires. You can still receive messages with
	// another MessageGroupId from your FIFO queue as long as they are
	// visible."
	m1 := e.receiveFIFO(url, 1)
	if got := bodiesInOrder(m1); !slices.Equal(got, []string{"a1"}) {
		e.Fatalf("receive returned %v, want [a1]", got)
	}
	e.wantNone(url)
	e.sendOK(url, groupEntries("B", "b1")...)
	b1 := e.receiveFIFO(url, 10)
	if got := bodiesInOrder(b1); !slices.Equal(got, []string{"b1"}) {
		e.Fatalf("with group A locked, receive returned %v, want [b1]", got)
	}
	e.wantNone(url)
	e.wantCounts(url, counts{Visible: 2, InFlight: 2})
	e.deleteOK(url, b1[0].ReceiptHandle)
	// Released by ChangeVisibility to 0: a1 comes back first.
	e.setVis(url, m1[0].ReceiptHandle, 0)
	again := e.receiveFIFO(url, 1)
	if got := bodiesInOrder(again); !slices.Equal(got, []string{"a1"}) || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		e.Fatalf("after releasing a1, receive returned %v (%v), want a1 again", got, again[0].Attributes)
	}
	// Released by the visibility timeout: a1 again, then (deleted) a2 and
	// a3 together.
	e.advance(30 * time.Second)
	again = e.receiveFIFO(url, 1)
	if got := bodiesInOrder(again); !slices.Equal(got, []string{"a1"}) {
		e.Fatalf("after a1's visibility timeout, receive returned %v, want [a1]", got)
	}
	e.deleteOK(url, again[0].ReceiptHandle)
	rest := e.receiveFIFO(url, 10)
	if got := bodiesInOrder(rest); !slices.Equal(got, []string{"a2", "a3"}) {
		e.Fatalf("after deleting a1, receive returned %v, want [a2 a3]", got)
	}
	// a2 deleted, a3 still in flight: the group stays locked, so a4 sent
	// now waits.
	e.deleteOK(url, rest[0].ReceiptHandle)
	e.sendOK(url, groupEntries("A", "a4")...)
	e.wantNone(url)
	e.deleteOK(url, rest[1].ReceiptHandle)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"a4"}) {
		e.Fatalf("after deleting a3, receive returned %v, want [a4]", got)
	}
}

func testGroupLockingPartialRelease(e *env) {
	url := e.createFIFO("q.fifo")
	e.sendOK(url, groupEntries("A", "a1", "a2", "a3")...)
	msgs := e.receiveFIFO(url, 2)
	if got := bodiesInOrder(msgs); !slices.Equal(got, []string{"a1", "a2"}) {
		e.Fatalf("receive returned %v, want [a1 a2]", got)
	}
	// a2 made visible while a1 is still in flight: the group is locked by
	// a1, so neither a2 nor a3 is delivered (delivering a2 now would
	// overtake a1 if a1 came back).
	e.setVis(url, msgs[1].ReceiptHandle, 0)
	e.wantNone(url)
	// a1 back too: the group starts over with a1.
	e.setVis(url, msgs[0].ReceiptHandle, 0)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"a1", "a2", "a3"}) {
		e.Fatalf("receive returned %v, want [a1 a2 a3]", got)
	}
}

func testFIFOHeadRedelivered(e *env) {
	url := e.createFIFO("q.fifo")
	e.sendOK(url, groupEntries("g1", "g1-m1", "g1-m2")...)
	e.sendOK(url, groupEntries("g2", "g2-m1")...)
	both := e.receiveFIFO(url, 2)
	if got := bodiesInOrder(both); !slices.Equal(got, []string{"g1-m1", "g1-m2"}) {
		e.Fatalf("receive returned %v, want [g1-m1 g1-m2]", got)
	}
	// The group's first message made visible while the second is still in
	// flight is delivered again: real SQS answered the next receive with
	// g2-m1 and g1-m1 (recorded for issue 19). What stays held back is
	// what comes after the message in flight.
	e.setVis(url, both[0].ReceiptHandle, 0)
	next := e.receiveFIFO(url, 10)
	if got := bodiesOf(next); !slices.Equal(got, []string{"g1-m1", "g2-m1"}) {
		e.Fatalf("after making g1-m1 visible, receive returned %v, want g1-m1 and g2-m1", bodiesInOrder(next))
	}
	for _, m := range next {
		if m.Body == "g1-m1" && m.Attributes["ApproximateReceiveCount"] != "2" {
			e.Errorf("g1-m1 redelivered with ApproximateReceiveCount %q, want 2", m.Attributes["ApproximateReceiveCount"])
		}
	}
	e.wantNone(url)

	// The same when the head's visibility timeout runs out while a later
	// message's was extended: the head is delivered, the message after the
	// one in flight is not.
	url = e.createFIFO("ext.fifo")
	e.sendOK(url, groupEntries("g", "m1", "m2", "m3")...)
	first := e.receiveFIFO(url, 2)
	if got := bodiesInOrder(first); !slices.Equal(got, []string{"m1", "m2"}) {
		e.Fatalf("receive returned %v, want [m1 m2]", got)
	}
	e.setVis(url, first[1].ReceiptHandle, 100)
	e.reopen()
	e.advance(30 * time.Second) // m1's 30 s end; m2 is in flight for 70 s more
	again := e.receiveFIFO(url, 10)
	if got := bodiesInOrder(again); !slices.Equal(got, []string{"m1"}) {
		e.Fatalf("with m1 visible and m2 in flight, receive returned %v, want [m1]", got)
	}
	e.deleteOK(url, again[0].ReceiptHandle)
	e.wantNone(url) // m2 in flight holds m3 back
	e.wantCounts(url, counts{Visible: 1, InFlight: 1})
	e.advance(70 * time.Second)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"m2", "m3"}) {
		e.Fatalf("after m2's timeout, receive returned %v, want [m2 m3]", got)
	}
}

func testFIFOExpiredHandle(e *env) {
	url := e.createFIFO("q.fifo")
	e.sendOK(url, groupEntries("A", "a1", "a2")...)
	old := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(10)})
	e.advance(10 * time.Second)
	cur := e.receiveOne(url)
	if old[0].Body != "a1" || cur.Body != "a1" {
		e.Fatalf("received %s then %s, want a1 twice", old[0].Body, cur.Body)
	}
	// On a FIFO queue a handle whose visibility timeout has ended cannot
	// delete the message: real DeleteMessage answers InvalidParameterValue
	// "Value ... for parameter ReceiptHandle is invalid. Reason: The
	// receipt handle has expired." (localstack's recorded
	// test_fifo_delete_message_with_expired_receipt_handle); as a batch
	// entry the contract carries that as SingleCode.
	r := e.deleteBatch(url, backend.DeleteEntry{ID: "old", ReceiptHandle: old[0].ReceiptHandle})
	if r[0].Err == nil {
		e.Fatal("Delete with an expired handle succeeded on a FIFO queue")
	}
	e.checkErr("Delete with an expired handle", r[0].Err, backend.CodeReceiptHandleIsInvalid, backend.CodeInvalidParameterValue)
	var be *backend.Error
	if errors.As(r[0].Err, &be) && !e.h.Remote && be.AsSingle().Code != backend.CodeInvalidParameterValue {
		e.Errorf("Delete with an expired handle: single-action code %s, want %s", be.AsSingle().Code, backend.CodeInvalidParameterValue)
	}
	// The message is still in flight under the current handle, and a2 is
	// still held back.
	e.wantCounts(url, counts{Visible: 1, InFlight: 1})
	e.wantNone(url)
	e.deleteOK(url, cur.ReceiptHandle)
	a2 := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(10)})
	if len(a2) != 1 || a2[0].Body != "a2" {
		e.Fatalf("received %v, want [a2]", bodiesInOrder(a2))
	}
	// Expired and not received again: the handle cannot delete it either.
	e.advance(10 * time.Second)
	r = e.deleteBatch(url, backend.DeleteEntry{ID: "expired", ReceiptHandle: a2[0].ReceiptHandle})
	if r[0].Err == nil {
		e.Fatal("Delete with an expired handle of a visible message succeeded on a FIFO queue")
	}
	e.checkErr("Delete with the expired handle of a visible message", r[0].Err, backend.CodeReceiptHandleIsInvalid, backend.CodeInvalidParameterValue)
	e.wantCounts(url, counts{Visible: 1})
	if m := e.receiveOne(url); m.Body != "a2" {
		e.Fatalf("received %s, want a2", m.Body)
	}
}

func testReceiveRequestAttemptID(e *env) {
	url := e.createFIFO("q.fifo")
	e.sendOK(url, groupEntries("A", "a1", "a2", "a3")...)
	e.sendOK(url, groupEntries("B", "b1")...)
	req := backend.ReceiveRequest{MaxMessages: 2, WaitTimeSeconds: new(0), ReceiveRequestAttemptID: "attempt-1",
		SystemAttributeNames: []string{"ApproximateReceiveCount"}}
	first := e.receive(url, req)
	if got := bodiesInOrder(first); !slices.Equal(got, []string{"a1", "a2"}) {
		e.Fatalf("receive returned %v, want [a1 a2]", got)
	}
	// API Reference (ReceiveMessage, ReceiveRequestAttemptId): "During a
	// visibility timeout, subsequent calls with the same
	// ReceiveRequestAttemptId return the same messages and receipt
	// handles. If a retry occurs within the deduplication interval, it
	// resets the visibility timeout."
	e.advance(20 * time.Second)
	retry := e.receive(url, req)
	if !slices.Equal(bodiesInOrder(retry), bodiesInOrder(first)) || !slices.Equal(handlesOf(retry), handlesOf(first)) {
		e.Fatalf("retry returned %v with handles %v; want the first receive's %v with %v",
			bodiesInOrder(retry), handlesOf(retry), bodiesInOrder(first), handlesOf(first))
	}
	for i := range retry {
		if retry[i].MessageID != first[i].MessageID {
			e.Errorf("retry returned message %s, first %s", retry[i].MessageID, first[i].MessageID)
		}
	}
	// Visibility reset at the retry: in flight until 20 + 30 s.
	e.advance(29 * time.Second)
	e.wantCounts(url, counts{Visible: 2, InFlight: 2}) // a3 and b1 visible, a3 held back
	// The other group is unaffected by the retry.
	if got := bodiesInOrder(e.receive(url, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})); !slices.Equal(got, []string{"b1"}) {
		e.Fatalf("receive returned %v, want [b1]", got)
	}
	// The handles returned by the retry work.
	e.deleteOK(url, handlesOf(retry)...)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"a3"}) {
		e.Fatalf("receive returned %v, want [a3]", got)
	}
}

func testReceiveRequestAttemptIDInvalidated(e *env) {
	// "It is possible to retry the ReceiveMessage action with the same
	// ReceiveRequestAttemptId if none of the messages have been modified
	// (deleted or had their visibility changes)", and "You can use
	// ReceiveRequestAttemptId only for 5 minutes after a ReceiveMessage
	// action." Otherwise the retry is a new receive: with the group still
	// locked it gets the other group's messages, with new handles.
	for _, tc := range []struct {
		name   string
		modify func(e *env, url string, first []*backend.Message)
	}{
		{"deleted", func(e *env, url string, first []*backend.Message) { e.deleteOK(url, first[0].ReceiptHandle) }},
		{"visibility changed", func(e *env, url string, first []*backend.Message) { e.setVis(url, first[1].ReceiptHandle, 600) }},
		{"after 5 minutes", func(e *env, url string, first []*backend.Message) { e.advance(5*time.Minute + time.Second) }},
	} {
		url := e.createFIFO(strings.ReplaceAll(tc.name, " ", "-") + ".fifo")
		e.sendOK(url, groupEntries("A", "a1", "a2", "a3")...)
		e.sendOK(url, groupEntries("B", "b1")...)
		req := backend.ReceiveRequest{MaxMessages: 2, WaitTimeSeconds: new(0), VisibilityTimeout: new(3600), ReceiveRequestAttemptID: "x"}
		first := e.receive(url, req)
		if got := bodiesInOrder(first); !slices.Equal(got, []string{"a1", "a2"}) {
			e.Fatalf("%s: receive returned %v, want [a1 a2]", tc.name, got)
		}
		tc.modify(e, url, first)
		retry := e.receive(url, req)
		if got := bodiesInOrder(retry); !slices.Equal(got, []string{"b1"}) {
			e.Errorf("%s: retry returned %v, want a new receive: [b1]", tc.name, got)
		}
		for _, m := range retry {
			if slices.Contains(handlesOf(first), m.ReceiptHandle) {
				e.Errorf("%s: a new receive reused handle %s", tc.name, m.ReceiptHandle)
			}
		}
	}
}

func testReceiveRequestAttemptIDValidation(e *env) {
	url := e.createFIFO("q.fifo")
	e.sendOK(url, groupEntries("A", "a1")...)
	// API Reference (ReceiveMessage, ReceiveRequestAttemptId): "The maximum
	// length of ReceiveRequestAttemptId is 128 characters.
	// ReceiveRequestAttemptId can contain alphanumeric characters (a-z,
	// A-Z, 0-9) and punctuation". Others are InvalidParameterValue, and
	// the rejected receive takes nothing.
	for _, bad := range []string{strings.Repeat("r", backend.MaxAttemptIDLength+1), "with space", "ümlaut"} {
		msgs, err := e.q(url).Receive(e.ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0), ReceiveRequestAttemptID: bad})
		e.checkErr(fmt.Sprintf("Receive with ReceiveRequestAttemptId %q", bad), err, backend.CodeInvalidParameterValue)
		if msgs != nil {
			e.Errorf("a rejected Receive returned %d messages", len(msgs))
		}
		e.wantCounts(url, counts{Visible: 1})
	}
	id := strings.Repeat("r", backend.MaxAttemptIDLength-32) + "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), ReceiveRequestAttemptID: id})
	if len(m) != 1 || m[0].Body != "a1" {
		e.Fatalf("receive with a valid 128-character attempt id returned %v", bodiesInOrder(m))
	}
}

func testFIFOPerMessageDelay(e *env) {
	url := e.createFIFO("q.fifo", "ContentBasedDeduplication", "true")
	// API Reference (SendMessage, DelaySeconds): "When you set FifoQueue,
	// you can't set DelaySeconds per message. You can set this parameter
	// only on a queue level." Real SQS: InvalidParameterValue "Value 2 for
	// parameter DelaySeconds is invalid. Reason: The request include
	// parameter that is not valid for this queue type." (localstack's
	// recorded test_fifo_queue_send_message_with_delay_seconds_fails). An
	// explicit 0 is the queue's own delay and accepted.
	for _, d := range []int{1, 2, backend.MaxDelaySeconds} {
		err := e.sendOneCode(url, backend.SendEntry{ID: "x", Body: fmt.Sprint("delayed ", d), MessageGroupID: "g", DelaySeconds: new(d)})
		e.checkErr(fmt.Sprintf("Send with DelaySeconds %d on a FIFO queue", d), err, backend.CodeInvalidParameterValue)
	}
	e.wantCounts(url, counts{})
	res := e.sendBatch(url,
		backend.SendEntry{ID: "zero", Body: "zero", MessageGroupID: "g", DelaySeconds: new(0)},
		backend.SendEntry{ID: "five", Body: "five", MessageGroupID: "g", DelaySeconds: new(5)},
		backend.SendEntry{ID: "none", Body: "none", MessageGroupID: "g"})
	e.wantEntryErr("batch entry with DelaySeconds 5", res[1].Err, backend.CodeInvalidParameterValue)
	if res[0].Err != nil || res[2].Err != nil {
		e.Fatalf("neighbours failed: %v, %v", res[0].Err, res[2].Err)
	}
	e.wantCounts(url, counts{Visible: 2})
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"zero", "none"}) {
		e.Fatalf("receive returned %v, want [zero none]", got)
	}
}

func testFIFOQueueDelay(e *env) {
	url := e.createFIFO("q.fifo", "DelaySeconds", "10")
	// API Reference (CreateQueue, DelaySeconds): "The length of time, in
	// seconds, for which the delivery of all messages in the queue is
	// delayed" — FIFO queues too.
	e.sendOK(url, groupEntries("A", "a1", "a2")...)
	e.wantCounts(url, counts{Delayed: 2})
	e.wantNone(url)
	e.advance(5 * time.Second)
	e.sendOK(url, groupEntries("A", "a3")...)
	e.advance(4 * time.Second)
	e.wantNone(url)
	e.advance(time.Second)
	e.wantCounts(url, counts{Visible: 2, Delayed: 1})
	first := e.receiveFIFO(url, 10)
	if got := bodiesInOrder(first); !slices.Equal(got, []string{"a1", "a2"}) {
		e.Fatalf("receive returned %v, want [a1 a2]", got)
	}
	e.deleteOK(url, handlesOf(first)...)
	e.advance(4 * time.Second)
	e.wantNone(url)
	e.advance(time.Second)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"a3"}) {
		e.Fatalf("receive returned %v, want [a3]", got)
	}

	// A message's DelaySeconds of 0 does not override a FIFO queue's
	// delay: real SQS applied the queue's 2 s to SendMessage with
	// DelaySeconds=0 (recorded for issue 19).
	url = e.createFIFO("two.fifo", "DelaySeconds", "2")
	zero := gm("z", "B", "b1", "b1")
	zero.DelaySeconds = new(0)
	e.sendOK(url, zero)
	e.wantCounts(url, counts{Delayed: 1})
	e.wantNone(url)
	e.advance(time.Second)
	e.wantNone(url)
	e.advance(time.Second)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"b1"}) {
		e.Fatalf("receive returned %v, want [b1]", got)
	}
}

func testHighThroughputAttributes(e *env) {
	// API Reference (CreateQueue): DeduplicationScope "Valid values are
	// messageGroup and queue"; FifoThroughputLimit "Valid values are
	// perQueue and perMessageGroupId. The perMessageGroupId value is
	// allowed only when the value for DeduplicationScope is messageGroup."
	// A value outside its set is InvalidAttributeValue, as for every
	// attribute; the forbidden combination's code is not documented, so
	// either attribute-validation code is accepted for it.
	for _, tc := range []struct {
		attrs backend.Attributes
		codes []string
	}{
		{fifoAttrs("DeduplicationScope", "group"), []string{backend.CodeInvalidAttributeValue}},
		{fifoAttrs("DeduplicationScope", "MessageGroup"), []string{backend.CodeInvalidAttributeValue}},
		{fifoAttrs("FifoThroughputLimit", "perGroup"), []string{backend.CodeInvalidAttributeValue}},
		{fifoAttrs("FifoThroughputLimit", "perMessageGroupId"), []string{backend.CodeInvalidAttributeValue, backend.CodeInvalidParameterValue}},
		{fifoAttrs("FifoThroughputLimit", "perMessageGroupId", "DeduplicationScope", "queue"), []string{backend.CodeInvalidAttributeValue, backend.CodeInvalidParameterValue}},
	} {
		_, err := e.svc().CreateQueue(e.ctx, "ht.fifo", tc.attrs, nil)
		e.checkErr(fmt.Sprintf("CreateQueue with %v", tc.attrs), err, tc.codes...)
	}
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}
	// High throughput: both set.
	ht := backend.Attributes{"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
	url := e.createFIFO("ht.fifo", "DeduplicationScope", "messageGroup", "FifoThroughputLimit", "perMessageGroupId")
	e.wantAttrs(url, ht)
	// messageGroup with perQueue is allowed too.
	e.setAttrs(url, backend.Attributes{"FifoThroughputLimit": "perQueue"})
	e.wantAttrs(url, backend.Attributes{"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perQueue"})
	e.setAttrs(url, backend.Attributes{"DeduplicationScope": "queue"})
	// perMessageGroupId alone on a queue-scoped queue is refused, and
	// changes nothing.
	before := e.allAttrs(url)
	e.checkErr("SetAttributes(FifoThroughputLimit=perMessageGroupId) with DeduplicationScope=queue",
		e.svc().SetAttributes(e.ctx, url, backend.Attributes{"FifoThroughputLimit": "perMessageGroupId", "VisibilityTimeout": "5"}),
		backend.CodeInvalidAttributeValue, backend.CodeInvalidParameterValue)
	e.checkErr("SetAttributes(DeduplicationScope=bad)",
		e.svc().SetAttributes(e.ctx, url, backend.Attributes{"DeduplicationScope": "bad", "VisibilityTimeout": "5"}),
		backend.CodeInvalidAttributeValue)
	if after := e.allAttrs(url); !maps.Equal(before, after) {
		e.Fatalf("rejected SetAttributes changed the queue:\n before %v\n after  %v", before, after)
	}
	// Both in one call is allowed.
	e.setAttrs(url, ht)
	e.wantAttrs(url, ht)
	// And the queue works as a FIFO queue.
	e.sendOK(url, groupEntries("A", "a1", "a2")...)
	if got := bodiesInOrder(e.receiveFIFO(url, 10)); !slices.Equal(got, []string{"a1", "a2"}) {
		e.Fatalf("receive returned %v", got)
	}
}

func testDeduplicationPerGroup(e *env) {
	// API Reference (CreateQueue, DeduplicationScope): "Specifies whether
	// message deduplication occurs at the message group or queue level."
	url := e.createFIFO("q.fifo", "DeduplicationScope", "messageGroup", "FifoThroughputLimit", "perMessageGroupId", "ContentBasedDeduplication", "true")
	a := e.sendBatch(url, gm("a", "A", "body", "d"))[0]
	b := e.sendBatch(url, gm("b", "B", "body", "d"))[0]
	if a.Err != nil || b.Err != nil || a.MessageID == b.MessageID {
		e.Fatalf("the same id in two groups: %+v, %+v; want two messages", a, b)
	}
	dup := e.sendBatch(url, gm("c", "A", "other body", "d"))[0]
	if dup.Err != nil || dup.MessageID != a.MessageID || dup.SequenceNumber != a.SequenceNumber {
		e.Errorf("the same id in the same group: %+v, want a duplicate of %s", dup, a.MessageID)
	}
	// Content-based ids are per group too.
	c1 := e.sendBatch(url, gm("d", "A", "content", ""))[0]
	c2 := e.sendBatch(url, gm("e", "B", "content", ""))[0]
	c3 := e.sendBatch(url, gm("f", "B", "content", ""))[0]
	if c1.MessageID == c2.MessageID || c3.MessageID != c2.MessageID {
		e.Errorf("content-based ids per group: %s %s %s", c1.MessageID, c2.MessageID, c3.MessageID)
	}
	e.wantCounts(url, counts{Visible: 4})
	// Back to queue scope: a new send with an id seen in another group
	// within the window is a duplicate again.
	e.setAttrs(url, backend.Attributes{"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"})
	e.advance(5*time.Minute + time.Second) // forget everything above
	x := e.sendBatch(url, gm("g", "A", "x", "shared"))[0]
	y := e.sendBatch(url, gm("h", "B", "y", "shared"))[0]
	if x.Err != nil || y.Err != nil || y.MessageID != x.MessageID {
		e.Errorf("queue scope: the same id in two groups gave %s and %s, want one message", x.MessageID, y.MessageID)
	}
	e.wantCounts(url, counts{Visible: 5})
}

func testFIFOInflightLimit(e *env) {
	e.skipSlow("receives 120,000 FIFO messages")
	url := e.createFIFO("q.fifo")
	q := e.q(url)
	// Developer Guide (Amazon SQS FIFO queue quotas, Messages per queue
	// (in flight)): "FIFO queues support a maximum of 120,000 in-flight
	// messages ... If this limit is reached, Amazon SQS does not return an
	// error, but processing may be impacted." 12,000 groups of ten, one
	// receive per group.
	const groups = backend.MaxInflightMessages / 10
	for g := range groups {
		es := make([]backend.SendEntry, 10)
		for i := range es {
			id := fmt.Sprintf("%d-%d", g, i)
			es[i] = gm(entryID(i), strconv.Itoa(g), "x", id)
		}
		if _, err := q.Send(e.ctx, es); err != nil {
			e.Fatalf("Send: %v", err)
		}
	}
	req := backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)}
	var first []*backend.Message
	for n := 0; n < backend.MaxInflightMessages; {
		msgs, err := q.Receive(e.ctx, req)
		if err != nil || len(msgs) == 0 {
			e.Fatalf("Receive after %d messages: %d messages, error %v", n, len(msgs), err)
		}
		if first == nil {
			first = msgs
		}
		n += len(msgs)
	}
	e.sendOK(url, gm("x", "extra", "one more", "extra"))
	msgs, err := q.Receive(e.ctx, req)
	if err != nil {
		e.Fatalf("Receive with 120,000 FIFO messages in flight: %v, want no error", err)
	}
	if len(msgs) != 0 {
		e.Fatalf("Receive with 120,000 FIFO messages in flight returned %d messages", len(msgs))
	}
	e.wantCounts(url, counts{Visible: 1, InFlight: backend.MaxInflightMessages})
	// Below the limit again, the other group's message is delivered.
	e.deleteOK(url, first[0].ReceiptHandle)
	if m := e.receiveOne(url); m.Body != "one more" {
		e.Fatalf("received %q, want %q", m.Body, "one more")
	}
}

// testFIFOConcurrentConsumers runs many producers and consumers on a FIFO
// queue with many groups, over several iterations with a randomised
// schedule: random batch sizes, yields, releases by ChangeVisibility and
// resent duplicates. No two consumers ever hold messages of one group at
// once, every group is delivered in order, every message is deleted
// exactly once and duplicates are never delivered. The clock does not move,
// so no visibility timeout ends by itself.
func testFIFOConcurrentConsumers(e *env) {
	seed := rand.Uint64()
	e.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const iterations, groups, perGroup, producers, consumers = 12, 24, 15, 6, 6
	for it := range iterations {
		url := e.createFIFO(fmt.Sprintf("q%d.fifo", it))
		q := e.q(url)
		var (
			mu       sync.Mutex
			holder   = map[string]int{} // group -> consumer holding it
			next     = map[string]int{} // group -> index of the next undeleted message
			deleted  atomic.Int64
			problems []string
			wg       sync.WaitGroup
		)
		report := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if len(problems) < 20 {
				problems = append(problems, fmt.Sprintf(format, args...))
			}
		}
		const total = groups * perGroup
		seeds := make([]uint64, producers+consumers)
		for i := range seeds {
			seeds[i] = rng.Uint64()
		}
		// Each producer owns groups p, p+producers, ... and sends each
		// group's messages in order, sometimes resending the previous
		// batch (same deduplication ids: duplicates).
		for p := range producers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seeds[p], 1))
				sent := map[int]int{}
				var last []backend.SendEntry
				for {
					var mine []int
					for g := p; g < groups; g += producers {
						if sent[g] < perGroup {
							mine = append(mine, g)
						}
					}
					if len(mine) == 0 {
						return
					}
					var es []backend.SendEntry
					if last != nil && r.IntN(4) == 0 {
						es = last // a retried send
					} else {
						for len(es) < 1+r.IntN(10) && len(mine) > 0 {
							k := r.IntN(len(mine))
							g := mine[k]
							i := sent[g]
							sent[g]++
							if sent[g] == perGroup {
								mine = slices.Delete(mine, k, k+1)
							}
							body := fmt.Sprintf("g%02d-%03d", g, i)
							es = append(es, gm(entryID(len(es)), fmt.Sprintf("g%02d", g), body, body))
						}
					}
					last = es
					res, err := q.Send(e.ctx, es)
					if err != nil {
						report("Send: %v", err)
						return
					}
					for _, x := range res {
						if x.Err != nil {
							report("Send entry %s: %v", x.ID, x.Err)
						}
					}
					if r.IntN(3) == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		for c := range consumers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seeds[producers+c], 2))
				for deleted.Load() < total && e.ctx.Err() == nil {
					msgs, err := q.Receive(e.ctx, backend.ReceiveRequest{MaxMessages: 1 + r.IntN(10), WaitTimeSeconds: new(0),
						SystemAttributeNames: []string{"MessageGroupId"}})
					if err != nil {
						report("Receive: %v", err)
						return
					}
					if len(msgs) == 0 {
						runtime.Gosched()
						continue
					}
					// Take the groups: none may be held by another consumer,
					// and each group's messages must continue where the
					// deleted ones stopped.
					byGroup := map[string][]*backend.Message{}
					var order []string
					mu.Lock()
					for _, m := range msgs {
						g := m.Attributes["MessageGroupId"]
						if _, ok := byGroup[g]; !ok {
							order = append(order, g)
							if h, held := holder[g]; held && h != c {
								problems = append(problems, fmt.Sprintf("group %s delivered to consumer %d while consumer %d holds it", g, c, h))
							}
							holder[g] = c
						}
						want := fmt.Sprintf("%s-%03d", g, next[g]+len(byGroup[g]))
						if m.Body != want {
							problems = append(problems, fmt.Sprintf("group %s delivered %s, want %s", g, m.Body, want))
						}
						byGroup[g] = append(byGroup[g], m)
					}
					mu.Unlock()
					if r.IntN(2) == 0 {
						runtime.Gosched()
					}
					// Settle each group: delete a prefix of it, release the
					// rest to be redelivered.
					for _, g := range order {
						batch := byGroup[g]
						keep := len(batch)
						if r.IntN(5) == 0 {
							keep = r.IntN(len(batch) + 1)
						}
						mu.Lock()
						next[g] += keep
						delete(holder, g)
						mu.Unlock()
						if keep > 0 {
							entries := make([]backend.DeleteEntry, keep)
							for i, m := range batch[:keep] {
								entries[i] = backend.DeleteEntry{ID: entryID(i), ReceiptHandle: m.ReceiptHandle}
							}
							res, err := q.Delete(e.ctx, entries)
							if err != nil {
								report("Delete: %v", err)
								return
							}
							for _, x := range res {
								if x.Err != nil {
									report("Delete entry: %v", x.Err)
								}
							}
							deleted.Add(int64(keep))
						}
						if rest := batch[keep:]; len(rest) > 0 {
							entries := make([]backend.VisibilityEntry, len(rest))
							for i, m := range rest {
								entries[i] = backend.VisibilityEntry{ID: entryID(i), ReceiptHandle: m.ReceiptHandle}
							}
							res, err := q.ChangeVisibility(e.ctx, entries)
							if err != nil {
								report("ChangeVisibility: %v", err)
								return
							}
							for _, x := range res {
								if x.Err != nil {
									report("ChangeVisibility entry: %v", x.Err)
								}
							}
						}
					}
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(4 * failsafe):
			e.Fatalf("iteration %d: consumers did not finish; %d of %d deleted", it, deleted.Load(), total)
		}
		if len(problems) > 0 {
			e.Fatalf("iteration %d (seed %d):\n%s", it, seed, strings.Join(problems, "\n"))
		}
		if n := deleted.Load(); n != total {
			e.Fatalf("iteration %d: %d messages deleted, want %d", it, n, total)
		}
		for g := range groups {
			if n := next[fmt.Sprintf("g%02d", g)]; n != perGroup {
				e.Errorf("iteration %d: group g%02d delivered %d of %d", it, g, n, perGroup)
			}
		}
		e.wantCounts(url, counts{})
		e.wantNone(url)
	}
}
