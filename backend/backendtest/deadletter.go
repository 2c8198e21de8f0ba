package backendtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Dead-letter queues: RedrivePolicy and RedriveAllowPolicy, moving a
// message after maxReceiveCount receives, what the moved message keeps,
// retention in the dead-letter queue, and ListDeadLetterSourceQueues. The
// authority is the API Reference (CreateQueue's Attributes,
// ListDeadLetterSourceQueues) and the Developer Guide's "Using dead-letter
// queues", "Setting-up dead-letter queue retention" and "Learn how to
// configure a dead-letter queue redrive".
func deadLetterScenarios() []scenario {
	return []scenario{
		{name: "RedrivePolicyValidation", needs: capDeadLetter, run: testRedrivePolicyValidation},
		{name: "RedrivePolicyRoundTrip", needs: capDeadLetter, run: testRedrivePolicyRoundTrip},
		{name: "OwnDeadLetterQueue", needs: capDeadLetter, run: testOwnDeadLetterQueue},
		{name: "MoveAfterMaxReceiveCount", needs: capDeadLetter, run: testMoveAfterMaxReceiveCount},
		{name: "MaxReceiveCountOne", needs: capDeadLetter, run: testMaxReceiveCountOne},
		{name: "StandardKeepsEnqueueTime", needs: capDeadLetter, run: testDeadLetterStandardRetention},
		{name: "FIFOResetsEnqueueTime", needs: capDeadLetter | capFIFO, run: testDeadLetterFIFORetention},
		{name: "FIFO", needs: capDeadLetter | capFIFO, run: testDeadLetterFIFO},
		{name: "FIFOSameDeduplicationID", needs: capDeadLetter | capFIFO, run: testDeadLetterFIFOSameDedupID},
		{name: "RedriveAllowPolicy", needs: capDeadLetter, run: testRedriveAllowPolicy},
		{name: "RedriveAllowPolicyValidation", needs: capDeadLetter, run: testRedriveAllowPolicyValidation},
		{name: "ListDeadLetterSourceQueues", needs: capDeadLetter, run: testListDeadLetterSourceQueues},
		{name: "ListDeadLetterSourceQueuesPaging", needs: capDeadLetter, run: testListDeadLetterSourceQueuesPaging},
	}
}

// sibling returns the ARN of a queue named name next to the queue whose
// ARN is arn (same partition, region and account).
func sibling(arn, name string) string {
	return arn[:strings.LastIndexByte(arn, ':')+1] + name
}

func testRedrivePolicyValidation(e *env) {
	dlq := e.create("dlq", nil)
	fifoDLQ := e.createFIFO("dlq.fifo")
	arn, fifoArn := e.arn(dlq), e.arn(fifoDLQ)
	region, account, _, _ := arnParts(arn)
	other := "999999999999"
	if account == other {
		other = "888888888888"
	}
	// Real SQS rejects a bad RedrivePolicy with InvalidParameterValue
	// "Value ... for parameter RedrivePolicy is invalid. Reason: ...":
	// "Invalid value for deadLetterTargetArn." (localstack's recorded
	// test_invalid_dead_letter_arn_rejected_before_lookup), "Dead letter
	// target does not exist.", "Dead-letter target owner should be same
	// as the source.", and for maxReceiveCount "valid values are from 1 to
	// 1000 both inclusive". CreateQueue (Attributes): "The dead-letter
	// queue of a FIFO queue must also be a FIFO queue. Similarly, the
	// dead-letter queue of a standard queue must also be a standard
	// queue." A document that is not JSON at all may be answered as an
	// invalid attribute value instead; either code is accepted for it.
	ipv := []string{backend.CodeInvalidParameterValue}
	cases := []struct {
		name, queue, policy string
		codes               []string
	}{
		{"not an ARN", "src", `{"deadLetterTargetArn":"dummy","maxReceiveCount":5}`, ipv},
		{"target missing", "src", policyJSON(sibling(arn, "missing"), 5), ipv},
		{"target in another region", "src", policyJSON(fmt.Sprintf("arn:aws:sqs:%s-x:%s:dlq", region, account), 5), ipv},
		{"target in another account", "src", policyJSON(fmt.Sprintf("arn:aws:sqs:%s:%s:dlq", region, other), 5), ipv},
		{"standard to FIFO", "src", policyJSON(fifoArn, 5), ipv},
		{"FIFO to standard", "src.fifo", policyJSON(arn, 5), ipv},
		{"maxReceiveCount 0", "src", policyJSON(arn, 0), ipv},
		{"maxReceiveCount -1", "src", policyJSON(arn, -1), ipv},
		{"maxReceiveCount 1001", "src", policyJSON(arn, 1001), ipv},
		{"maxReceiveCount not a number", "src", fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"many"}`, arn), ipv},
		{"maxReceiveCount fractional", "src", fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":1.5}`, arn), ipv},
		{"no deadLetterTargetArn", "src", `{"maxReceiveCount":5}`, ipv},
		{"not JSON", "src", `{"deadLetterTargetArn":`, []string{backend.CodeInvalidParameterValue, backend.CodeInvalidAttributeValue}},
	}
	for _, tc := range cases {
		attrs := backend.Attributes{"RedrivePolicy": tc.policy}
		if backend.IsFIFOName(tc.queue) {
			attrs["FifoQueue"] = "true"
		}
		_, err := e.svc().CreateQueue(e.ctx, tc.queue, attrs, nil)
		e.checkErr("CreateQueue with RedrivePolicy, "+tc.name, err, tc.codes...)
	}
	if got := e.listAll("src"); len(got) != 0 {
		e.Errorf("ListQueues = %v after rejected creates, want none", got)
	}
	// The same through SetAttributes, on queues with a valid policy that
	// must stay as it was.
	src := e.create("set", backend.Attributes{"RedrivePolicy": policyJSON(arn, 3)})
	fsrc := e.createFIFO("set.fifo", "RedrivePolicy", policyJSON(fifoArn, 3))
	for _, tc := range cases {
		url := src
		if backend.IsFIFOName(tc.queue) {
			url = fsrc
		}
		before := e.allAttrs(url)
		err := e.svc().SetAttributes(e.ctx, url, backend.Attributes{"RedrivePolicy": tc.policy, "VisibilityTimeout": "7"})
		e.checkErr("SetAttributes with RedrivePolicy, "+tc.name, err, tc.codes...)
		if after := e.allAttrs(url); !maps.Equal(before, after) {
			e.Errorf("rejected SetAttributes (%s) changed the queue:\n before %v\n after  %v", tc.name, before, after)
		}
	}
	for _, tc := range []struct{ dlq, src string }{{dlq, src}, {fifoDLQ, fsrc}} {
		r, err := e.svc().ListDeadLetterSourceQueues(e.ctx, tc.dlq, backend.ListQueuesRequest{})
		if err != nil || !slices.Contains(r.QueueURLs, tc.src) {
			e.Errorf("ListDeadLetterSourceQueues(%s) = %v, %v; want it to list %s", tc.dlq, r.QueueURLs, err, tc.src)
		}
	}
}

func testOwnDeadLetterQueue(e *env) {
	url := e.create("q", nil)
	arn := e.arn(url)
	// Real SQS takes a RedrivePolicy that names the queue itself
	// (recorded for issue 19).
	policy := policyJSON(arn, 1)
	e.setAttrs(url, backend.Attributes{"RedrivePolicy": policy})
	e.wantSameJSON("RedrivePolicy", e.attrs(url, "RedrivePolicy")["RedrivePolicy"], policy)
	r, err := e.svc().ListDeadLetterSourceQueues(e.ctx, url, backend.ListQueuesRequest{})
	if err != nil || !slices.Equal(r.QueueURLs, []string{url}) {
		e.Fatalf("ListDeadLetterSourceQueues of a queue that is its own dead-letter queue = %v, %v; want itself", r.QueueURLs, err)
	}
	// Moving a message to the queue it is in loses nothing: it stays
	// receivable past maxReceiveCount.
	e.send(url, "m")
	e.reopen()
	for i := range 3 {
		msgs := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(0)})
		if len(msgs) != 1 || msgs[0].Body != "m" {
			e.Fatalf("receive %d returned %v, want m", i+1, bodiesOf(msgs))
		}
	}
	e.wantCounts(url, counts{Visible: 1})
}

func testRedrivePolicyRoundTrip(e *env) {
	dlq := e.create("dlq", nil)
	arn := e.arn(dlq)
	// The limits are allowed; maxReceiveCount may be a number or a string
	// (the Developer Guide's examples write "maxReceiveCount": "10").
	for i, p := range []string{
		policyJSON(arn, 1),
		policyJSON(arn, 1000),
		fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"10"}`, arn),
	} {
		url := e.create(fmt.Sprintf("src%d", i), backend.Attributes{"RedrivePolicy": p})
		e.wantSameJSON("RedrivePolicy", e.attrs(url, "RedrivePolicy")["RedrivePolicy"], p)
		if got := e.allAttrs(url)["RedrivePolicy"]; got == "" {
			e.Errorf("GetAttributes(All) lacks RedrivePolicy")
		}
	}
	// Set, change and remove (an empty RedrivePolicy removes it).
	url := e.create("later", nil)
	if _, ok := e.allAttrs(url)["RedrivePolicy"]; ok {
		e.Errorf("a queue without a dead-letter queue reports a RedrivePolicy")
	}
	e.setAttrs(url, backend.Attributes{"RedrivePolicy": policyJSON(arn, 4)})
	e.wantSameJSON("RedrivePolicy", e.attrs(url, "RedrivePolicy")["RedrivePolicy"], policyJSON(arn, 4))
	// Creating again with the same policy returns the queue.
	if again, err := e.svc().CreateQueue(e.ctx, "later", backend.Attributes{"RedrivePolicy": policyJSON(arn, 4)}, nil); err != nil || again != url {
		e.Errorf("CreateQueue again with the same RedrivePolicy = %q, %v", again, err)
	}
	e.setAttrs(url, backend.Attributes{"RedrivePolicy": ""})
	if v, ok := e.allAttrs(url)["RedrivePolicy"]; ok {
		e.Errorf("RedrivePolicy = %q after setting it empty, want none", v)
	}
	// Without the policy the message is not dead-lettered any more.
	e.send(url, "m")
	for range 6 {
		if m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(0)}); len(m) != 1 {
			e.Fatalf("receive returned %d messages without a RedrivePolicy", len(m))
		}
	}
	e.wantCounts(dlq, counts{})
}

// receiveAllAttrs receives up to n messages with every system and message
// attribute, without waiting.
func (e *env) receiveAllAttrs(url string, n int, vis *int) []*backend.Message {
	e.Helper()
	return e.receive(url, backend.ReceiveRequest{MaxMessages: n, WaitTimeSeconds: new(0), VisibilityTimeout: vis,
		SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
}

func testMoveAfterMaxReceiveCount(e *env) {
	src, dlq := e.dlqPipe("src", "dlq", 2)
	srcArn := e.arn(src)
	attrs := map[string]backend.MessageAttributeValue{
		"kind": {DataType: "String", StringValue: "poison"},
		"n":    {DataType: "Number", StringValue: "7"},
		"raw":  {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
	}
	sys := map[string]backend.MessageAttributeValue{"AWSTraceHeader": {DataType: "String", StringValue: traceHeader}}
	sentAt := e.now()
	sent := e.sendBatch(src, backend.SendEntry{ID: "p", Body: "poison", MessageAttributes: attrs, MessageSystemAttributes: sys})[0]
	if sent.Err != nil {
		e.Fatal(sent.Err)
	}
	// CreateQueue (RedrivePolicy): "maxReceiveCount – The number of times
	// a message is delivered to the source queue before being moved to the
	// dead-letter queue ... When the ReceiveCount for a message exceeds the
	// maxReceiveCount for a queue, Amazon SQS moves the message to the
	// dead-letter-queue." Two receives deliver it.
	zero := new(0)
	for i := range 2 {
		e.advance(time.Second)
		m := e.receiveAllAttrs(src, 10, zero)
		if len(m) != 1 || m[0].MessageID != sent.MessageID {
			e.Fatalf("receive %d returned %d messages, want the poison message", i+1, len(m))
		}
	}
	e.wantCounts(src, counts{Visible: 1})
	e.wantCounts(dlq, counts{})
	e.send(src, "fine")
	// The third would exceed maxReceiveCount: the message goes to the
	// dead-letter queue instead of being delivered, and the rest of the
	// receive is served as usual.
	e.advance(time.Second)
	got := e.receiveAllAttrs(src, 10, nil)
	if b := bodiesOf(got); !slices.Equal(b, []string{"fine"}) {
		e.Fatalf("third receive returned %v, want [fine] with the poison message dead-lettered", b)
	}
	e.wantCounts(src, counts{InFlight: 1})
	e.wantCounts(dlq, counts{Visible: 1})
	e.reopen()
	dm := e.receiveAllAttrs(dlq, 10, nil)
	if len(dm) != 1 {
		e.Fatalf("dead-letter queue delivered %d messages, want 1", len(dm))
	}
	m := dm[0]
	// It keeps its id, body and attributes, and gains
	// DeadLetterQueueSourceArn (API Reference, MessageSystemAttributeName).
	if m.MessageID != sent.MessageID || m.Body != "poison" {
		e.Errorf("dead-lettered message %s %q, want %s %q", m.MessageID, m.Body, sent.MessageID, "poison")
	}
	if !maps.EqualFunc(m.MessageAttributes, attrs, attrEqual) || m.MD5OfMessageAttributes != sent.MD5OfMessageAttributes {
		e.Errorf("dead-lettered message attributes %v (MD5 %s), want %v (MD5 %s)", m.MessageAttributes, m.MD5OfMessageAttributes, attrs, sent.MD5OfMessageAttributes)
	}
	want := map[string]string{
		"DeadLetterQueueSourceArn": srcArn,
		"AWSTraceHeader":           traceHeader,
		// "Setting-up dead-letter queue retention": for standard queues
		// "When a message is moved to a dead-letter queue, the enqueue
		// timestamp is unchanged."
		"SentTimestamp": ms(sentAt),
		// ReceiveMessage (AttributeNames): ApproximateReceiveCount is "the
		// number of times a message has been received across all queues
		// but not deleted": two in the source, one here.
		"ApproximateReceiveCount": "3",
	}
	for k, v := range want {
		if m.Attributes[k] != v {
			e.Errorf("dead-lettered message: %s = %q, want %q", k, m.Attributes[k], v)
		}
	}
	// It is an ordinary message of the dead-letter queue now.
	e.deleteOK(dlq, m.ReceiptHandle)
	e.wantCounts(dlq, counts{})
}

func testMaxReceiveCountOne(e *env) {
	src, dlq := e.dlqPipe("src", "dlq", 1)
	e.send(src, "a", "b", "c")
	first := e.receive(src, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), VisibilityTimeout: new(5)})
	if len(first) != 3 {
		e.Fatalf("first receive returned %d messages, want 3", len(first))
	}
	// One delivered and deleted, one released, one left to time out: the
	// two not deleted go to the dead-letter queue at their next receive.
	e.deleteOK(src, first[0].ReceiptHandle)
	e.setVis(src, first[1].ReceiptHandle, 0)
	e.advance(5 * time.Second)
	e.wantCounts(src, counts{Visible: 2})
	e.wantNone(src)
	e.wantCounts(src, counts{})
	got := e.wantBodies(dlq, first[1].Body, first[2].Body)
	for _, m := range got {
		e.deleteOK(dlq, m.ReceiptHandle)
	}
}

func testDeadLetterStandardRetention(e *env) {
	src, dlq := e.dlqPipe("src", "dlq", 1)
	e.setAttrs(dlq, backend.Attributes{"MessageRetentionPeriod": "600"})
	e.send(src, "old")
	e.receive(src, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(120)})
	e.advance(120 * time.Second)
	e.wantNone(src) // moved now, 120 s after it was sent
	e.wantCounts(dlq, counts{Visible: 1})
	// "For standard queues, the expiration of a message is always based on
	// its original enqueue timestamp ... if a message spends 1 day in the
	// original queue before it's moved to a dead-letter queue ... [with a]
	// retention period ... of 4 days, the message is deleted from the
	// dead-letter queue after 3 days." The dead-letter queue keeps it for
	// 600 s from the original send.
	e.advance(479 * time.Second) // 599 s after the send
	e.wantCounts(dlq, counts{Visible: 1})
	e.advance(2 * time.Second) // 601 s
	e.wantCounts(dlq, counts{})
	e.wantNone(dlq)
}

func testDeadLetterFIFORetention(e *env) {
	src, dlq := e.dlqPipe("src.fifo", "dlq.fifo", 1)
	e.setAttrs(dlq, backend.Attributes{"MessageRetentionPeriod": "600"})
	e.sendOK(src, groupEntries("A", "old")...)
	e.receive(src, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(120)})
	e.advance(120 * time.Second)
	e.wantNone(src)
	e.wantCounts(dlq, counts{Visible: 1})
	// "For FIFO queues, the enqueue timestamp resets when the message is
	// moved to a dead-letter queue ... the message is deleted from the
	// dead-letter queue after 4 days": 600 s from the move here.
	e.advance(599 * time.Second) // 719 s after the send, 599 s after the move
	e.wantCounts(dlq, counts{Visible: 1})
	e.advance(2 * time.Second)
	e.wantCounts(dlq, counts{})
	e.wantNone(dlq)
}

func testDeadLetterFIFO(e *env) {
	src, dlq := e.dlqPipe("src.fifo", "dlq.fifo", 1)
	srcArn := e.arn(src)
	res := e.sendBatch(src, gm("a1", "A", "a1", "d-a1"), gm("a2", "A", "a2", "d-a2"), gm("b1", "B", "b1", "d-b1"))
	ids := map[string]string{}
	for _, r := range res {
		if r.Err != nil {
			e.Fatal(r.Err)
		}
		ids[r.ID] = r.MessageID
	}
	// a1 received once and released; at its next receive it moves to the
	// dead-letter queue and the group goes on with a2.
	m := e.receive(src, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(0)})
	if len(m) != 1 || m[0].Body != "a1" {
		e.Fatalf("receive returned %v, want [a1]", bodiesInOrder(m))
	}
	var next []string
	for range 3 {
		got := e.receiveFIFO(src, 10)
		next = append(next, bodiesInOrder(got)...)
		e.deleteOK(src, handlesOf(got)...)
	}
	slices.Sort(next)
	if !slices.Equal(next, []string{"a2", "b1"}) {
		e.Fatalf("after a1 moved, the source delivered %v, want a2 and b1", next)
	}
	e.wantCounts(src, counts{})
	dm := e.receiveAllAttrs(dlq, 10, nil)
	if len(dm) != 1 {
		e.Fatalf("dead-letter queue delivered %v, want [a1]", bodiesInOrder(dm))
	}
	want := map[string]string{
		"MessageGroupId":           "A",
		"DeadLetterQueueSourceArn": srcArn,
		// "When a message is moved from a FIFO queue to a FIFO DLQ, the
		// original message's deduplication ID will be replaced with the
		// original message's ID." (Learn how to configure a dead-letter
		// queue redrive)
		"MessageDeduplicationId": ids["a1"],
	}
	if dm[0].MessageID != ids["a1"] || dm[0].Body != "a1" {
		e.Errorf("dead-lettered message %s %q, want %s a1", dm[0].MessageID, dm[0].Body, ids["a1"])
	}
	for k, v := range want {
		if dm[0].Attributes[k] != v {
			e.Errorf("dead-lettered message: %s = %q, want %q", k, dm[0].Attributes[k], v)
		}
	}
	if _, ok := parseSeq(dm[0].Attributes["SequenceNumber"]); !ok {
		e.Errorf("dead-lettered FIFO message has SequenceNumber %q", dm[0].Attributes["SequenceNumber"])
	}
}

func testDeadLetterFIFOSameDedupID(e *env) {
	src, dlq := e.dlqPipe("src.fifo", "dlq.fifo", 1)
	// Two independent messages that share a deduplication id (sent more
	// than five minutes apart) both survive in the dead-letter queue:
	// "This is to make sure that the DLQ deduplication will not prevent
	// storing of two independent messages that happen to share a
	// deduplication ID."
	first := e.sendOK(src, gm("x", "A", "first", "same"))[0]
	e.deadLetter(src)
	e.advance(5*time.Minute + time.Second)
	second := e.sendOK(src, gm("x", "A", "second", "same"))[0]
	if second == first {
		e.Fatal("a send more than 5 minutes later was deduplicated")
	}
	e.deadLetter(src)
	got := e.drain(dlq, backend.ReceiveRequest{SystemAttributeNames: []string{"MessageDeduplicationId"}})
	if b := bodiesInOrder(got); !slices.Equal(b, []string{"first", "second"}) {
		e.Fatalf("dead-letter queue holds %v, want [first second]", b)
	}
}

func testRedriveAllowPolicy(e *env) {
	// CreateQueue (RedriveAllowPolicy): allowAll "(Default) Any source
	// queues in this Amazon Web Services account in the same Region can
	// specify this queue as the dead-letter queue"; denyAll "No source
	// queues can specify this queue as the dead-letter queue"; byQueue
	// "Only queues specified by the sourceQueueArns parameter can specify
	// this queue as the dead-letter queue." A refused RedrivePolicy is an
	// invalid RedrivePolicy value (InvalidParameterValue, as above).
	deny := e.create("deny", backend.Attributes{"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`})
	denyArn := e.arn(deny)
	allowed := sibling(denyArn, "allowed")
	by := e.create("by", backend.Attributes{"RedriveAllowPolicy": fmt.Sprintf(`{"redrivePermission":"byQueue","sourceQueueArns":[%q]}`, allowed)})
	all := e.create("all", backend.Attributes{"RedriveAllowPolicy": `{"redrivePermission":"allowAll"}`})
	def := e.create("default", nil)
	byArn, allArn, defArn := e.arn(by), e.arn(all), e.arn(def)

	_, err := e.svc().CreateQueue(e.ctx, "src", backend.Attributes{"RedrivePolicy": policyJSON(denyArn, 3)}, nil)
	e.checkErr("CreateQueue naming a denyAll dead-letter queue", err, backend.CodeInvalidParameterValue)
	_, err = e.svc().CreateQueue(e.ctx, "other", backend.Attributes{"RedrivePolicy": policyJSON(byArn, 3)}, nil)
	e.checkErr("CreateQueue naming a byQueue dead-letter queue that does not list it", err, backend.CodeInvalidParameterValue)
	if got := e.listAll(""); len(got) != 4 {
		e.Fatalf("ListQueues = %v after rejected creates, want the 4 dead-letter queues", got)
	}
	e.create("allowed", backend.Attributes{"RedrivePolicy": policyJSON(byArn, 3)})
	e.create("src", backend.Attributes{"RedrivePolicy": policyJSON(allArn, 3)})
	src2 := e.create("src2", backend.Attributes{"RedrivePolicy": policyJSON(defArn, 3)})
	// SetAttributes is checked the same way, and a refusal changes nothing.
	before := e.allAttrs(src2)
	e.checkErr("SetAttributes naming a denyAll dead-letter queue",
		e.svc().SetAttributes(e.ctx, src2, backend.Attributes{"RedrivePolicy": policyJSON(denyArn, 3)}), backend.CodeInvalidParameterValue)
	if after := e.allAttrs(src2); !maps.Equal(before, after) {
		e.Errorf("rejected SetAttributes changed the queue:\n before %v\n after  %v", before, after)
	}
	// The policies read back as set.
	e.wantSameJSON("RedriveAllowPolicy", e.attrs(deny, "RedriveAllowPolicy")["RedriveAllowPolicy"], `{"redrivePermission":"denyAll"}`)
	e.wantSameJSON("RedriveAllowPolicy", e.attrs(by, "RedriveAllowPolicy")["RedriveAllowPolicy"],
		fmt.Sprintf(`{"redrivePermission":"byQueue","sourceQueueArns":[%q]}`, allowed))
	// Opening the denyAll queue lets sources use it.
	e.setAttrs(deny, backend.Attributes{"RedriveAllowPolicy": `{"redrivePermission":"allowAll"}`})
	e.setAttrs(src2, backend.Attributes{"RedrivePolicy": policyJSON(denyArn, 3)})
}

func testRedriveAllowPolicyValidation(e *env) {
	url := e.create("dlq", nil)
	arn := e.arn(url)
	arns := func(n int) string {
		var b []string
		for i := range n {
			q, _ := json.Marshal(sibling(arn, fmt.Sprintf("s%02d", i)))
			b = append(b, string(q))
		}
		return "[" + strings.Join(b, ",") + "]"
	}
	// CreateQueue (RedriveAllowPolicy): redrivePermission is allowAll,
	// denyAll or byQueue; sourceQueueArns: "You can specify this parameter
	// only when the redrivePermission parameter is set to byQueue. You can
	// specify up to 10 source queue ARNs." The code of a refused policy
	// is not documented; either attribute-validation code is accepted.
	for _, p := range []string{
		`{"redrivePermission":"allowSome"}`,
		`{"redrivePermission":"byQueue","sourceQueueArns":` + arns(11) + `}`,
		`{"redrivePermission":"allowAll","sourceQueueArns":` + arns(1) + `}`,
		`{"redrivePermission":"denyAll","sourceQueueArns":` + arns(1) + `}`,
		`{"redrivePermission":`,
	} {
		_, err := e.svc().CreateQueue(e.ctx, "rejected", backend.Attributes{"RedriveAllowPolicy": p}, nil)
		e.checkErr("CreateQueue with RedriveAllowPolicy "+p, err, backend.CodeInvalidAttributeValue, backend.CodeInvalidParameterValue)
		before := e.allAttrs(url)
		err = e.svc().SetAttributes(e.ctx, url, backend.Attributes{"RedriveAllowPolicy": p, "DelaySeconds": "3"})
		e.checkErr("SetAttributes with RedriveAllowPolicy "+p, err, backend.CodeInvalidAttributeValue, backend.CodeInvalidParameterValue)
		if after := e.allAttrs(url); !maps.Equal(before, after) {
			e.Errorf("rejected SetAttributes changed the queue:\n before %v\n after  %v", before, after)
		}
	}
	if got := e.listAll("rejected"); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates", got)
	}
	ten := `{"redrivePermission":"byQueue","sourceQueueArns":` + arns(10) + `}`
	e.setAttrs(url, backend.Attributes{"RedriveAllowPolicy": ten})
	e.wantSameJSON("RedriveAllowPolicy", e.attrs(url, "RedriveAllowPolicy")["RedriveAllowPolicy"], ten)
	// A listed source may use it.
	e.create("s09", backend.Attributes{"RedrivePolicy": policyJSON(arn, 2)})
}

func testListDeadLetterSourceQueues(e *env) {
	dlq := e.create("dlq", nil)
	dlq2 := e.create("dlq2", nil)
	plain := e.create("plain", nil)
	arn := e.arn(dlq)
	var want []string
	for i := range 3 {
		want = append(want, e.create(fmt.Sprintf("src%d", i), backend.Attributes{"RedrivePolicy": policyJSON(arn, 5)}))
	}
	other := e.create("other", backend.Attributes{"RedrivePolicy": policyJSON(e.arn(dlq2), 5)})
	list := func(url string) []string {
		e.Helper()
		r, err := e.svc().ListDeadLetterSourceQueues(e.ctx, url, backend.ListQueuesRequest{})
		if err != nil {
			e.Fatalf("ListDeadLetterSourceQueues: %v", err)
		}
		// "You must set MaxResults to receive a value for NextToken in the
		// response."
		if r.NextToken != "" {
			e.Errorf("ListDeadLetterSourceQueues without MaxResults returned NextToken %q", r.NextToken)
		}
		return slices.Sorted(slices.Values(r.QueueURLs))
	}
	// API Reference (ListDeadLetterSourceQueues): "Returns a list of your
	// queues that have the RedrivePolicy queue attribute configured with a
	// dead-letter queue."
	if got := list(dlq); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		e.Errorf("sources of dlq = %v, want %v", got, want)
	}
	if got := list(dlq2); !slices.Equal(got, []string{other}) {
		e.Errorf("sources of dlq2 = %v, want [%s]", got, other)
	}
	if got := list(plain); len(got) != 0 {
		e.Errorf("sources of a queue nobody uses = %v, want none", got)
	}
	// A source that drops its policy, and one that is deleted, are gone.
	e.setAttrs(want[0], backend.Attributes{"RedrivePolicy": ""})
	if err := e.svc().DeleteQueue(e.ctx, want[1]); err != nil {
		e.Fatal(err)
	}
	if got := list(dlq); !slices.Equal(got, want[2:]) {
		e.Errorf("sources of dlq = %v, want %v", got, want[2:])
	}
	// Moving a source to another dead-letter queue moves it in the lists.
	e.setAttrs(want[2], backend.Attributes{"RedrivePolicy": policyJSON(e.arn(dlq2), 5)})
	if got := list(dlq); len(got) != 0 {
		e.Errorf("sources of dlq = %v, want none", got)
	}
	if got := list(dlq2); !slices.Equal(got, slices.Sorted(slices.Values([]string{other, want[2]}))) {
		e.Errorf("sources of dlq2 = %v", got)
	}
	// Errors: a queue that does not exist, MaxResults out of 1-1000
	// ("Value range is 1 to 1000").
	_, err := e.svc().ListDeadLetterSourceQueues(e.ctx, want[1], backend.ListQueuesRequest{})
	e.checkErr("ListDeadLetterSourceQueues of a deleted queue", err, backend.CodeQueueDoesNotExist)
	for _, n := range []int{-1, 1001} {
		_, err := e.svc().ListDeadLetterSourceQueues(e.ctx, dlq2, backend.ListQueuesRequest{MaxResults: n})
		e.checkErr(fmt.Sprintf("ListDeadLetterSourceQueues(MaxResults %d)", n), err, backend.CodeInvalidParameterValue)
	}
}

func testListDeadLetterSourceQueuesPaging(e *env) {
	dlq := e.create("dlq", nil)
	arn := e.arn(dlq)
	var want []string
	for i := range 23 {
		want = append(want, e.create(fmt.Sprintf("src%02d", i), backend.Attributes{"RedrivePolicy": policyJSON(arn, 5)}))
	}
	e.create("unrelated", nil)
	slices.Sort(want)
	// "If you set MaxResults and there are additional results to display,
	// the response includes a value for NextToken. Use NextToken as a
	// parameter in your next request to ListDeadLetterSourceQueues to
	// receive the next page of results."
	for _, max := range []int{1, 4, 22, 23, 24, 1000} {
		var got []string
		token := ""
		for page := 0; ; page++ {
			if page > len(want)+1 {
				e.Fatalf("MaxResults %d: paging does not end", max)
			}
			r, err := e.svc().ListDeadLetterSourceQueues(e.ctx, dlq, backend.ListQueuesRequest{MaxResults: max, NextToken: token})
			if err != nil {
				e.Fatalf("ListDeadLetterSourceQueues(MaxResults %d, page %d): %v", max, page, err)
			}
			if len(r.QueueURLs) > max {
				e.Fatalf("MaxResults %d: a page of %d", max, len(r.QueueURLs))
			}
			if len(r.QueueURLs) == 0 && r.NextToken != "" {
				e.Fatalf("MaxResults %d: an empty page with NextToken %q", max, r.NextToken)
			}
			got = append(got, r.QueueURLs...)
			if r.NextToken == "" {
				break
			}
			token = r.NextToken
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			e.Errorf("paging with MaxResults %d gave %d URLs %v, want each of the %d sources once", max, len(got), got, len(want))
		}
	}
}
