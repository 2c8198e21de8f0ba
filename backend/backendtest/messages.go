package backendtest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Sending, receiving and deleting: batch rules, validation, delays,
// retention, MaxMessages and delivery.
func messageScenarios() []scenario {
	return []scenario{
		{name: "SendReceiveDelete", run: testSendReceiveDelete},
		{name: "BatchRequestErrors", run: testBatchRequestErrors},
		{name: "BatchRequestTooLong", run: testBatchRequestTooLong},
		{name: "BatchEntryIDs", run: testBatchEntryIDs},
		{name: "SendEntryFailuresIsolated", run: testSendEntryFailuresIsolated},
		{name: "InvalidBody", run: testInvalidBody},
		{name: "BodyRoundTrip", run: testBodyRoundTrip},
		{name: "InvalidMessageAttributes", run: testInvalidMessageAttributes},
		{name: "MessageAttributesRoundTrip", run: testMessageAttributesRoundTrip},
		{name: "MessageAttributeNameNonASCII", run: testMessageAttributeNameNonASCII},
		{name: "EmptyGroupIDOnStandard", run: testEmptyGroupIDOnStandard},
		{name: "MessageTexts", run: testMessageTexts},
		{name: "MaximumMessageSize", run: testMaximumMessageSize},
		{name: "DelayQueue", run: testDelayQueue},
		{name: "DelayPerMessage", run: testDelayPerMessage},
		{name: "Retention", run: testRetention},
		{name: "MaxMessages", run: testMaxMessages},
		{name: "InvalidReceiveRequest", run: testInvalidReceiveRequest},
		{name: "DeleteIdempotent", run: testDeleteIdempotent},
		{name: "AtLeastOnce", run: testAtLeastOnce},
		{name: "InflightLimit", run: testInflightLimit},
	}
}

func testSendReceiveDelete(e *env) {
	url := e.create("q", nil)
	res := e.sendBatch(url, backend.SendEntry{ID: "only", Body: "hello"})
	if res[0].Err != nil {
		e.Fatalf("Send: %v", res[0].Err)
	}
	if res[0].MD5OfMessageAttributes != "" || res[0].MD5OfMessageSystemAttributes != "" || res[0].SequenceNumber != "" {
		e.Errorf("Send result without attributes on a standard queue: %+v", res[0])
	}
	e.wantCounts(url, counts{Visible: 1})
	m := e.receiveOne(url)
	if m.MessageID != res[0].MessageID || m.Body != "hello" {
		e.Fatalf("received %s %q, want %s %q", m.MessageID, m.Body, res[0].MessageID, "hello")
	}
	// Nothing requested, nothing returned.
	if len(m.Attributes) != 0 || len(m.MessageAttributes) != 0 || m.MD5OfMessageAttributes != "" {
		e.Errorf("message carries attributes nobody asked for: %v %v %q", m.Attributes, m.MessageAttributes, m.MD5OfMessageAttributes)
	}
	e.wantCounts(url, counts{InFlight: 1})
	e.wantNone(url)
	e.deleteOK(url, m.ReceiptHandle)
	e.wantCounts(url, counts{})
	e.advance(time.Hour)
	e.wantNone(url)

	// Message ids are distinct.
	ids := e.send(url, "a", "b", "c", "d", "e")
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		e.Errorf("message ids not distinct: %v", ids)
	}
}

// batchRequestError is a malformed batch: a request-level error.
type batchRequestError struct {
	name string
	ids  []string
	want *backend.Error
}

func batchRequestErrors() []batchRequestError {
	ids := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = entryID(i)
		}
		return s
	}
	// The API Reference's batch errors: EmptyBatchRequest ("The batch
	// request doesn't contain any entries"), TooManyEntriesInBatchRequest
	// ("The batch request contains more entries than permissible", 10),
	// InvalidBatchEntryId ("The Id of a batch entry in a batch request
	// doesn't abide by the specification": up to 80 alphanumerics, '-' and
	// '_'), BatchEntryIdsNotDistinct ("Two or more batch entries in the
	// request have the same Id").
	return []batchRequestError{
		{"empty", []string{}, backend.ErrEmptyBatchRequest},
		{"nil", nil, backend.ErrEmptyBatchRequest},
		{"eleven", ids(11), backend.ErrTooManyEntriesInBatchRequest},
		{"empty id", []string{"a", ""}, backend.ErrInvalidBatchEntryID},
		{"id too long", []string{strings.Repeat("i", backend.MaxBatchEntryIDLength+1)}, backend.ErrInvalidBatchEntryID},
		{"id with space", []string{"a b"}, backend.ErrInvalidBatchEntryID},
		{"id with dot", []string{"a.b"}, backend.ErrInvalidBatchEntryID},
		{"id with non-ASCII", []string{"ü"}, backend.ErrInvalidBatchEntryID},
		{"duplicate ids", []string{"a", "b", "a"}, backend.ErrBatchEntryIdsNotDistinct},
	}
}

func testBatchRequestErrors(e *env) {
	url := e.create("q", nil)
	e.send(url, "visible")
	e.sendOK(url, backend.SendEntry{ID: "f", Body: "inflight"})
	var m *backend.Message
	for _, x := range e.receiveAll(url) {
		if x.Body == "inflight" {
			m = x
		} else {
			e.setVis(url, x.ReceiptHandle, 0) // back to visible
		}
	}
	if m == nil {
		e.Fatal("message 'inflight' not received")
	}
	e.wantCounts(url, counts{Visible: 1, InFlight: 1})
	q := e.q(url)
	for _, tc := range batchRequestErrors() {
		var sends []backend.SendEntry
		var dels []backend.DeleteEntry
		var vis []backend.VisibilityEntry
		if tc.ids != nil {
			sends = []backend.SendEntry{}
			dels = []backend.DeleteEntry{}
			vis = []backend.VisibilityEntry{}
		}
		for _, id := range tc.ids {
			sends = append(sends, backend.SendEntry{ID: id, Body: "new " + id})
			dels = append(dels, backend.DeleteEntry{ID: id, ReceiptHandle: m.ReceiptHandle})
			vis = append(vis, backend.VisibilityEntry{ID: id, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		}
		sr, err := q.Send(e.ctx, sends)
		e.wantErr("Send, "+tc.name, err, tc.want)
		dr, err := q.Delete(e.ctx, dels)
		e.wantErr("Delete, "+tc.name, err, tc.want)
		vr, err := q.ChangeVisibility(e.ctx, vis)
		e.wantErr("ChangeVisibility, "+tc.name, err, tc.want)
		if sr != nil || dr != nil || vr != nil {
			e.Errorf("%s: a rejected request returned results", tc.name)
		}
		// Nothing was sent, deleted or made visible.
		e.wantCounts(url, counts{Visible: 1, InFlight: 1})
	}
	e.wantBodies(url, "visible")
	// The in-flight message's handle still works.
	e.setVis(url, m.ReceiptHandle, 0)
	e.wantBodies(url, "inflight")
}

func testBatchRequestTooLong(e *env) {
	url := e.create("q", nil)
	e.send(url, "keep")
	// API Reference (SendMessageBatch): "The maximum allowed individual
	// message size and the maximum total payload size (the sum of the
	// individual lengths of all of the batched messages) are both 1 MiB";
	// BatchRequestTooLong: "The length of all the messages put together is
	// more than the limit."
	half := strings.Repeat("x", backend.MaxMessageSize/2)
	for _, entries := range [][]backend.SendEntry{
		bodyEntries(half, half, "y"),
		{{ID: "a", Body: half}, {ID: "b", Body: half[:len(half)-10], MessageAttributes: map[string]backend.MessageAttributeValue{
			"attr": {DataType: "String", StringValue: "0123456789"}, // counts toward the size
		}}},
	} {
		res, err := e.q(url).Send(e.ctx, entries)
		e.wantErr("Send of more than 1 MiB in total", err, backend.ErrBatchRequestTooLong)
		if res != nil {
			e.Errorf("a rejected Send returned results")
		}
		e.wantCounts(url, counts{Visible: 1})
	}
	// Exactly 1 MiB in total is allowed.
	e.sendOK(url, bodyEntries(half, half)...)
	e.wantCounts(url, counts{Visible: 3})
}

func testBatchEntryIDs(e *env) {
	url := e.create("q", nil)
	// The longest id, every allowed character, and the same ids in the
	// next batch (ids are distinct only within a batch).
	ids := []string{strings.Repeat("i", backend.MaxBatchEntryIDLength), "AZaz09-_", "x"}
	for range 2 {
		entries := make([]backend.SendEntry, len(ids))
		for i, id := range ids {
			entries[i] = backend.SendEntry{ID: id, Body: "b" + id}
		}
		e.sendOK(url, entries...)
	}
	msgs := e.receiveAll(url)
	if len(msgs) != 6 {
		e.Fatalf("received %d messages, want 6", len(msgs))
	}
	dels := make([]backend.DeleteEntry, len(ids))
	for i, id := range ids {
		dels[i] = backend.DeleteEntry{ID: id, ReceiptHandle: msgs[i].ReceiptHandle}
	}
	for _, r := range e.deleteBatch(url, dels...) {
		if r.Err != nil {
			e.Errorf("Delete entry %s: %v", r.ID, r.Err)
		}
	}
	// Ten entries is the most, and allowed.
	e.send(url, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	e.wantCounts(url, counts{Visible: 10, InFlight: 3})
}

func testSendEntryFailuresIsolated(e *env) {
	url := e.create("q", backend.Attributes{"MaximumMessageSize": "1024"})
	attrs := map[string]backend.MessageAttributeValue{"kind": {DataType: "String", StringValue: "two"}}
	entries := []backend.SendEntry{
		{ID: "ok1", Body: "one"},
		{ID: "nul", Body: "bad\x00"},
		{ID: "ok2", Body: "two", MessageAttributes: attrs},
		{ID: "delay901", Body: "x", DelaySeconds: new(901)},
		{ID: "delayneg", Body: "x", DelaySeconds: new(-1)},
		{ID: "attr", Body: "x", MessageAttributes: map[string]backend.MessageAttributeValue{"a": {DataType: "Foo", StringValue: "v"}}},
		{ID: "empty", Body: ""},
		{ID: "ok3", Body: "three", DelaySeconds: new(0)},
		{ID: "big", Body: strings.Repeat("x", 1025)},
		{ID: "sys", Body: "x", MessageSystemAttributes: map[string]backend.MessageAttributeValue{"Foo": {DataType: "String", StringValue: "v"}}},
	}
	want := map[string]string{
		"nul":      backend.CodeInvalidMessageContents,
		"delay901": backend.CodeInvalidParameterValue,
		"delayneg": backend.CodeInvalidParameterValue,
		"attr":     backend.CodeInvalidParameterValue,
		"empty":    backend.CodeMissingParameter,
		"big":      backend.CodeInvalidParameterValue,
		"sys":      backend.CodeInvalidParameterValue,
	}
	res := e.sendBatch(url, entries...)
	for _, r := range res {
		if code, bad := want[r.ID]; bad {
			if be := e.wantEntryErr("Send entry "+r.ID, r.Err, code); !be.SenderFault {
				e.Errorf("entry %s: SenderFault false for a caller's mistake", r.ID)
			}
			if r.MessageID != "" {
				e.Errorf("failed entry %s has MessageID %q", r.ID, r.MessageID)
			}
		} else if r.Err != nil {
			e.Errorf("valid entry %s failed next to invalid ones: %v", r.ID, r.Err)
		}
	}
	e.wantCounts(url, counts{Visible: 3})
	for _, m := range e.receive(url, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), MessageAttributeNames: []string{"All"}}) {
		if m.Body == "two" && !maps.EqualFunc(m.MessageAttributes, attrs, attrEqual) {
			e.Errorf("message two has attributes %v, want %v", m.MessageAttributes, attrs)
		}
	}
}

func attrEqual(a, b backend.MessageAttributeValue) bool {
	return a.DataType == b.DataType && a.StringValue == b.StringValue && string(a.BinaryValue) == string(b.BinaryValue)
}

func testInvalidBody(e *env) {
	url := e.create("q", nil)
	// API Reference (SendMessage, MessageBody): "#x9 | #xA | #xD | #x20 to
	// #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF ... If a message
	// contains characters outside the allowed set, Amazon SQS rejects the
	// message and returns an InvalidMessageContents error." An empty body
	// is MissingParameter ("The request must contain the parameter
	// MessageBody", real SQS output quoted in localstack/localstack#12317).
	for _, tc := range []struct {
		name, body, code string
	}{
		{"empty", "", backend.CodeMissingParameter},
		{"NUL", "a\x00b", backend.CodeInvalidMessageContents},
		{"backspace", "\b", backend.CodeInvalidMessageContents},
		{"vertical tab", "a\vb", backend.CodeInvalidMessageContents},
		{"form feed", "\f", backend.CodeInvalidMessageContents},
		{"unit separator", "\x1f", backend.CodeInvalidMessageContents},
		{"U+FFFE", "a\uFFFE", backend.CodeInvalidMessageContents},
		{"U+FFFF", "\uFFFF", backend.CodeInvalidMessageContents},
		{"invalid UTF-8", "a\xffb", backend.CodeInvalidMessageContents},
		{"surrogate", "\xed\xa0\x80", backend.CodeInvalidMessageContents},
		{"truncated UTF-8", "\xe2\x82", backend.CodeInvalidMessageContents},
	} {
		res := e.sendBatch(url,
			backend.SendEntry{ID: "before", Body: "before " + tc.name},
			backend.SendEntry{ID: "bad", Body: tc.body},
			backend.SendEntry{ID: "after", Body: "after " + tc.name})
		e.wantEntryErr("body "+tc.name, res[1].Err, tc.code)
		if res[0].Err != nil || res[2].Err != nil {
			e.Fatalf("neighbours of an invalid body failed: %v, %v", res[0].Err, res[2].Err)
		}
		e.wantBodies(url, "before "+tc.name, "after "+tc.name)
	}
	e.wantCounts(url, counts{InFlight: 22})
}

func testBodyRoundTrip(e *env) {
	url := e.create("q", nil)
	bodies := []string{
		"\t\n\r",
		" ",
		"\uD7FF\uE000\uFFFD",
		"\U00010000\U0010FFFF",
		"héllo wörld ✓ 日本語 😀",
		`{"json": [1, 2, "three"], "x": null}`,
		"<xml attr='1'>&amp;</xml>",
		strings.Repeat("z", 4096),
		"trailing spaces   ",
	}
	e.send(url, bodies...)
	msgs := e.wantBodies(url, bodies...)
	for _, m := range msgs {
		if m.MD5OfBody != backend.MD5OfBody(m.Body) {
			e.Errorf("body %q: MD5OfBody %q", m.Body, m.MD5OfBody)
		}
	}
	// A body of exactly the default maximum size (1 MiB) is allowed.
	e.send(url, strings.Repeat("m", backend.MaxMessageSize))
	if m := e.receiveOne(url); len(m.Body) != backend.MaxMessageSize {
		e.Fatalf("1 MiB body came back with %d bytes", len(m.Body))
	}
}

func testInvalidMessageAttributes(e *env) {
	url := e.create("q", nil)
	str := func(v string) backend.MessageAttributeValue {
		return backend.MessageAttributeValue{DataType: "String", StringValue: v}
	}
	eleven := map[string]backend.MessageAttributeValue{}
	for i := range backend.MaxMessageAttributes + 1 {
		eleven[fmt.Sprintf("a%d", i)] = str("v")
	}
	// Developer Guide (Amazon SQS message attributes) and the API
	// Reference (MessageAttributeValue): at most 10 attributes; names of
	// up to 256 of A-Z a-z 0-9 _ - . , case-sensitive, not starting with
	// "AWS." or "Amazon." (any casing), not starting or ending with '.',
	// no successive '.'; DataType String, Number or Binary with an
	// optional custom ".label"; a non-empty value. Real SQS answers each
	// with InvalidParameterValue (e.g. "Message (user) attribute 'piyo'
	// must contain a non-empty value of type 'String'", quoted in
	// softwaremill/elasticmq#373; "The message attribute 'Author' has an
	// invalid message attribute type", boto/boto3#362).
	for _, tc := range []struct {
		name  string
		attrs map[string]backend.MessageAttributeValue
	}{
		{"eleven attributes", eleven},
		{"empty name", map[string]backend.MessageAttributeValue{"": str("v")}},
		{"name too long", map[string]backend.MessageAttributeValue{strings.Repeat("n", backend.MaxAttributeNameLength+1): str("v")}},
		{"AWS. prefix", map[string]backend.MessageAttributeValue{"AWS.x": str("v")}},
		{"aws. prefix", map[string]backend.MessageAttributeValue{"aws.x": str("v")}},
		{"Amazon. prefix", map[string]backend.MessageAttributeValue{"Amazon.x": str("v")}},
		{"aMaZoN. prefix", map[string]backend.MessageAttributeValue{"aMaZoN.x": str("v")}},
		{"leading dot", map[string]backend.MessageAttributeValue{".x": str("v")}},
		{"trailing dot", map[string]backend.MessageAttributeValue{"x.": str("v")}},
		{"double dot", map[string]backend.MessageAttributeValue{"a..b": str("v")}},
		{"space in name", map[string]backend.MessageAttributeValue{"a b": str("v")}},
		{"slash in name", map[string]backend.MessageAttributeValue{"a/b": str("v")}},
		{"empty type", map[string]backend.MessageAttributeValue{"a": {StringValue: "v"}}},
		{"lower-case type", map[string]backend.MessageAttributeValue{"a": {DataType: "string", StringValue: "v"}}},
		{"unknown type", map[string]backend.MessageAttributeValue{"a": {DataType: "Int", StringValue: "1"}}},
		{"empty string", map[string]backend.MessageAttributeValue{"a": str("")}},
		{"empty number", map[string]backend.MessageAttributeValue{"a": {DataType: "Number"}}},
		{"not a number", map[string]backend.MessageAttributeValue{"a": {DataType: "Number", StringValue: "abc"}}},
		{"empty binary", map[string]backend.MessageAttributeValue{"a": {DataType: "Binary"}}},
		{"invalid character in value", map[string]backend.MessageAttributeValue{"a": str("x\x00y")}},
		{"one bad among good", map[string]backend.MessageAttributeValue{"good": str("v"), "AWS.bad": str("v")}},
	} {
		res := e.sendBatch(url,
			backend.SendEntry{ID: "before", Body: "before"},
			backend.SendEntry{ID: "bad", Body: "bad", MessageAttributes: tc.attrs},
			backend.SendEntry{ID: "after", Body: "after"})
		e.wantEntryErr(tc.name, res[1].Err, backend.CodeInvalidParameterValue)
		if res[0].Err != nil || res[2].Err != nil {
			e.Fatalf("%s: neighbours failed: %v, %v", tc.name, res[0].Err, res[2].Err)
		}
		e.wantBodies(url, "before", "after")
	}
}

func testMessageAttributeNameNonASCII(e *env) {
	url := e.create("q", nil)
	// Real SQS takes attribute names with non-ASCII letters (recorded for
	// issue 19), though the Developer Guide lists only A-Z and a-z.
	attrs := map[string]backend.MessageAttributeValue{
		"attr.1øßä": {DataType: "String", StringValue: "v"},
		"Ωmega":     {DataType: "Number", StringValue: "1"},
	}
	res := e.sendBatch(url, backend.SendEntry{ID: "m", Body: "letters", MessageAttributes: attrs})
	if res[0].Err != nil {
		e.Fatalf("Send with attribute names %v: %v", slices.Sorted(maps.Keys(attrs)), res[0].Err)
	}
	e.reopen()
	msgs := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), MessageAttributeNames: []string{"attr.*", "Ωmega"}})
	if len(msgs) != 1 || !maps.EqualFunc(msgs[0].MessageAttributes, attrs, attrEqual) {
		e.Fatalf("received %v, want one message with %v", msgs, attrs)
	}
	if msgs[0].MD5OfMessageAttributes != res[0].MD5OfMessageAttributes {
		e.Errorf("MD5OfMessageAttributes %s on receive, %s on send", msgs[0].MD5OfMessageAttributes, res[0].MD5OfMessageAttributes)
	}
}

func testEmptyGroupIDOnStandard(e *env) {
	url := e.create("q", nil)
	// A MessageGroupId given as "" is invalid on a standard queue too
	// (real SQS, recorded for issue 19), while one not given is no error.
	empty := backend.SendEntry{ID: "empty", Body: "empty group", MessageGroupIDSet: true}
	err := e.sendOneCode(url, empty)
	e.checkErr("Send with MessageGroupId \"\"", err, backend.CodeInvalidParameterValue)
	e.wantMessage("Send with MessageGroupId \"\"", err,
		"Value  for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
	res := e.sendBatch(url, backend.SendEntry{ID: "none", Body: "no group"}, empty)
	if res[0].Err != nil {
		e.Fatalf("Send without MessageGroupId: %v", res[0].Err)
	}
	e.wantEntryErr("batch entry with MessageGroupId \"\"", res[1].Err, backend.CodeInvalidParameterValue)
	e.wantBodies(url, "no group")
}

func testMessageTexts(e *env) {
	// Real SQS's exact words for these answers (recorded for issue 19).
	url := e.create("q", backend.Attributes{"MaximumMessageSize": "1024", "VisibilityTimeout": "30"})
	_, err := e.svc().CreateQueue(e.ctx, "q", backend.Attributes{"VisibilityTimeout": "30", "DelaySeconds": "5"}, nil)
	e.wantErr("CreateQueue with another DelaySeconds", err, backend.ErrQueueNameExists)
	e.wantMessage("CreateQueue with another DelaySeconds", err,
		"A queue already exists with the same name and a different value for attribute DelaySeconds")

	_, err = e.q(url).Send(e.ctx, []backend.SendEntry{{ID: "bad id", Body: "x"}})
	e.wantErr("Send with entry id \"bad id\"", err, backend.ErrInvalidBatchEntryID)
	e.wantMessage("Send with entry id \"bad id\"", err,
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")

	// The limit named is the queue's MaximumMessageSize.
	res := e.sendBatch(url, backend.SendEntry{ID: "big", Body: strings.Repeat("x", 1025)}, backend.SendEntry{ID: "ok", Body: "fits"})
	be := e.wantEntryErr("batch entry over MaximumMessageSize", res[0].Err, backend.CodeInvalidParameterValue)
	if be.Message != "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes." {
		e.Errorf("batch entry over MaximumMessageSize: message %q", be.Message)
	}
	if res[1].Err != nil {
		e.Fatalf("entry next to an oversized one failed: %v", res[1].Err)
	}

	// A queue that does not exist; the query protocol words it "for this
	// wsdl version".
	if err := e.svc().DeleteQueue(e.ctx, url); err != nil {
		e.Fatalf("DeleteQueue: %v", err)
	}
	_, err = e.svc().GetAttributes(e.ctx, url, []string{"All"})
	e.wantErr("GetAttributes of a deleted queue", err, backend.ErrQueueDoesNotExist)
	var dne *backend.Error
	if errors.As(err, &dne); dne.Message != "The specified queue does not exist." &&
		dne.Message != "The specified queue does not exist for this wsdl version." {
		e.Errorf("GetAttributes of a deleted queue: message %q", dne.Message)
	}
}

func testMessageAttributesRoundTrip(e *env) {
	url := e.create("q", nil)
	attrs := map[string]backend.MessageAttributeValue{
		strings.Repeat("n", backend.MaxAttributeNameLength): {DataType: "String", StringValue: "longest name"},
		"a-b_c.d": {DataType: "String", StringValue: "ünïcödé ✓"},
		"int":     {DataType: "Number.int", StringValue: "42"},
		"neg":     {DataType: "Number", StringValue: "-1.5"},
		"exp":     {DataType: "Number", StringValue: "6.02e23"},
		"png":     {DataType: "Binary.png", BinaryValue: []byte{0x89, 'P', 'N', 'G', 0, 0xff}},
		"bin":     {DataType: "Binary", BinaryValue: []byte{0}},
		"json":    {DataType: "String.json", StringValue: `{"a":1}`},
		"Case":    {DataType: "String", StringValue: "upper"},
		"case":    {DataType: "String", StringValue: "lower"},
	}
	res := e.sendBatch(url, backend.SendEntry{ID: "m", Body: "with attributes", MessageAttributes: attrs})
	if res[0].Err != nil {
		e.Fatalf("Send with 10 valid attributes: %v", res[0].Err)
	}
	if res[0].MD5OfMessageAttributes == "" {
		e.Fatal("MD5OfMessageAttributes empty for a message with attributes")
	}
	e.reopen()
	msgs := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), MessageAttributeNames: []string{"All"}})
	if len(msgs) != 1 {
		e.Fatalf("received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !maps.EqualFunc(m.MessageAttributes, attrs, attrEqual) {
		e.Fatalf("attributes came back as %v, want %v", m.MessageAttributes, attrs)
	}
	if m.MD5OfMessageAttributes != res[0].MD5OfMessageAttributes {
		e.Errorf("MD5OfMessageAttributes on receive %q, on send %q", m.MD5OfMessageAttributes, res[0].MD5OfMessageAttributes)
	}
}

func testMaximumMessageSize(e *env) {
	url := e.create("q", backend.Attributes{"MaximumMessageSize": "1024"})
	// API Reference (CreateQueue, MaximumMessageSize): "The limit of how
	// many bytes a message can contain before Amazon SQS rejects it";
	// message attributes count (name, type and value bytes). Real SQS:
	// InvalidParameterValue "One or more parameters are invalid. Reason:
	// Message must be shorter than ... bytes" (inferablehq/inferable#306).
	attr := map[string]backend.MessageAttributeValue{"0123456789": {DataType: "String", StringValue: "123456789"}} // 10+6+9 = 25 bytes
	entries := []backend.SendEntry{
		{ID: "fits", Body: strings.Repeat("a", 1024)},
		{ID: "over", Body: strings.Repeat("b", 1025)},
		{ID: "fitswithattr", Body: strings.Repeat("c", 1024-25), MessageAttributes: attr},
		{ID: "overwithattr", Body: strings.Repeat("d", 1025-25), MessageAttributes: attr},
		{ID: "multibyte", Body: strings.Repeat("é", 513)}, // 1026 bytes in UTF-8
	}
	res := e.sendBatch(url, entries...)
	for _, r := range res {
		switch r.ID {
		case "fits", "fitswithattr":
			if r.Err != nil {
				e.Errorf("entry %s at the limit failed: %v", r.ID, r.Err)
			}
		default:
			e.wantEntryErr("entry "+r.ID, r.Err, backend.CodeInvalidParameterValue)
		}
	}
	e.wantCounts(url, counts{Visible: 2})
	e.wantBodies(url, strings.Repeat("a", 1024), strings.Repeat("c", 1024-25))
}

func testDelayQueue(e *env) {
	url := e.create("q", backend.Attributes{"DelaySeconds": "10"})
	// API Reference (CreateQueue, DelaySeconds): "The length of time, in
	// seconds, for which the delivery of all messages in the queue is
	// delayed."
	e.send(url, "late")
	e.wantCounts(url, counts{Delayed: 1})
	e.wantNone(url)
	e.reopen()
	e.advance(9 * time.Second)
	e.wantCounts(url, counts{Delayed: 1})
	e.wantNone(url)
	e.advance(time.Second)
	e.wantCounts(url, counts{Visible: 1})
	e.wantBodies(url, "late")

	// Changing the queue's delay does not move messages already sent.
	e.send(url, "ten")
	e.setAttrs(url, backend.Attributes{"DelaySeconds": "0"})
	e.wantCounts(url, counts{Delayed: 1, InFlight: 1})
	e.send(url, "now")
	e.wantBodies(url, "now")
	e.advance(10 * time.Second)
	e.wantBodies(url, "ten")
}

func testDelayPerMessage(e *env) {
	// A long visibility timeout keeps received messages out of the way.
	url := e.create("q", backend.Attributes{"DelaySeconds": "10", "VisibilityTimeout": "43200"})
	// API Reference (SendMessage, DelaySeconds): "If you don't specify a
	// value, the default value for the queue applies." A value given,
	// even 0, overrides it.
	e.sendOK(url,
		backend.SendEntry{ID: "zero", Body: "zero", DelaySeconds: new(0)},
		backend.SendEntry{ID: "five", Body: "five", DelaySeconds: new(5)},
		backend.SendEntry{ID: "max", Body: "max", DelaySeconds: new(backend.MaxDelaySeconds)},
		backend.SendEntry{ID: "queue", Body: "queue"})
	e.wantCounts(url, counts{Visible: 1, Delayed: 3})
	e.wantBodies(url, "zero")
	e.advance(5 * time.Second)
	e.wantCounts(url, counts{Visible: 1, InFlight: 1, Delayed: 2})
	e.wantBodies(url, "five")
	e.advance(5 * time.Second)
	e.wantBodies(url, "queue")
	e.advance(time.Duration(backend.MaxDelaySeconds-11) * time.Second)
	e.wantNone(url)
	e.advance(time.Second)
	e.wantBodies(url, "max")
}

func testRetention(e *env) {
	url := e.create("q", backend.Attributes{"MessageRetentionPeriod": "60", "VisibilityTimeout": "600"})
	// API Reference (CreateQueue, MessageRetentionPeriod): "The length of
	// time, in seconds, for which Amazon SQS retains a message." Messages
	// in flight expire too.
	e.send(url, "visible", "inflight")
	var inflight *backend.Message
	for _, m := range e.receiveAll(url) {
		if m.Body == "inflight" {
			inflight = m
		} else {
			e.setVis(url, m.ReceiptHandle, 0)
		}
	}
	e.advance(30 * time.Second)
	e.send(url, "younger")
	e.wantCounts(url, counts{Visible: 2, InFlight: 1})
	e.advance(29 * time.Second)
	e.wantCounts(url, counts{Visible: 2, InFlight: 1})
	e.advance(2 * time.Second) // 61 s after the first two were sent
	e.wantCounts(url, counts{Visible: 1})
	// Deleting a message that is gone succeeds (contract, Queue.Delete).
	e.deleteOK(url, inflight.ReceiptHandle)
	e.wantBodies(url, "younger")
	e.advance(30 * time.Second)
	e.wantCounts(url, counts{})
	e.wantNone(url)
}

func testMaxMessages(e *env) {
	url := e.create("q", nil)
	bodies := make([]string, 15)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("m%02d", i)
	}
	e.send(url, bodies...)
	var got []*backend.Message
	// API Reference (ReceiveMessage, MaxNumberOfMessages): "Valid values:
	// 1 to 10. Default: 1." The contract: 0 means 1.
	for _, tc := range []struct{ max, want int }{{0, 1}, {1, 1}, {3, 3}, {10, 10}, {10, 0}} {
		msgs := e.receive(url, backend.ReceiveRequest{MaxMessages: tc.max, WaitTimeSeconds: new(0)})
		if len(msgs) != tc.want {
			e.Fatalf("Receive(MaxMessages %d) returned %d messages, want %d", tc.max, len(msgs), tc.want)
		}
		got = append(got, msgs...)
	}
	if b := bodiesOf(got); !slices.Equal(b, bodies) {
		e.Fatalf("received %v, want %v", b, bodies)
	}
}

func testInvalidReceiveRequest(e *env) {
	url := e.create("q", nil)
	e.send(url, "keep")
	// API Reference (ReceiveMessage): MaxNumberOfMessages 1-10,
	// WaitTimeSeconds 0-20, VisibilityTimeout 0-43,200; out of range is
	// InvalidParameterValue ("Value 1000 for parameter MaxNumberOfMessages
	// is invalid. Reason: Must be between 1 and 10, if provided.", real
	// SQS output quoted in aws/aws-sdk-java#197). An unknown system
	// attribute name is InvalidAttributeName.
	for _, tc := range []struct {
		name string
		req  backend.ReceiveRequest
		want *backend.Error
	}{
		{"MaxMessages 11", backend.ReceiveRequest{MaxMessages: 11}, backend.ErrInvalidParameterValue},
		{"MaxMessages -1", backend.ReceiveRequest{MaxMessages: -1}, backend.ErrInvalidParameterValue},
		{"WaitTimeSeconds 21", backend.ReceiveRequest{WaitTimeSeconds: new(21)}, backend.ErrInvalidParameterValue},
		{"WaitTimeSeconds -1", backend.ReceiveRequest{WaitTimeSeconds: new(-1)}, backend.ErrInvalidParameterValue},
		{"VisibilityTimeout 43201", backend.ReceiveRequest{VisibilityTimeout: new(43201)}, backend.ErrInvalidParameterValue},
		{"VisibilityTimeout -1", backend.ReceiveRequest{VisibilityTimeout: new(-1)}, backend.ErrInvalidParameterValue},
		{"unknown system attribute", backend.ReceiveRequest{SystemAttributeNames: []string{"SentTimestamp", "Foo"}}, backend.ErrInvalidAttributeName},
	} {
		msgs, err := e.q(url).Receive(e.ctx, tc.req)
		e.wantErr("Receive, "+tc.name, err, tc.want)
		if msgs != nil {
			e.Errorf("Receive, %s: a rejected request returned %d messages", tc.name, len(msgs))
		}
		e.wantCounts(url, counts{Visible: 1})
	}
	// The limits themselves are allowed, and the rejected receives did not
	// count as receives.
	msgs := e.receive(url, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), VisibilityTimeout: new(backend.MaxVisibilityTimeout),
		SystemAttributeNames: []string{"ApproximateReceiveCount"}})
	if len(msgs) != 1 || msgs[0].Body != "keep" {
		e.Fatalf("received %s, want [keep]", short(bodiesOf(msgs)))
	}
	if c := msgs[0].Attributes["ApproximateReceiveCount"]; c != "1" {
		e.Errorf("ApproximateReceiveCount = %q after rejected receives, want 1", c)
	}
}

func testDeleteIdempotent(e *env) {
	url := e.create("q", nil)
	e.send(url, "a", "b")
	msgs := e.receiveAll(url)
	// Contract (Queue.Delete): "Deleting a message that is already gone
	// succeeds, as in SQS."
	e.deleteOK(url, msgs[0].ReceiptHandle)
	e.deleteOK(url, msgs[0].ReceiptHandle)
	// Twice in one batch, under distinct entry ids.
	res := e.deleteBatch(url,
		backend.DeleteEntry{ID: "x", ReceiptHandle: msgs[1].ReceiptHandle},
		backend.DeleteEntry{ID: "y", ReceiptHandle: msgs[1].ReceiptHandle})
	for _, r := range res {
		if r.Err != nil {
			e.Errorf("Delete entry %s: %v", r.ID, r.Err)
		}
	}
	e.wantCounts(url, counts{})
	e.advance(time.Hour)
	e.wantNone(url)
}

func testAtLeastOnce(e *env) {
	url := e.create("q", nil)
	const n = 100
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("job-%03d", i)
	}
	e.send(url, bodies...)
	e.reopen()
	seen := map[string]int{}
	for len(seen) < n {
		msgs := e.receiveNow(url, 10)
		if len(msgs) == 0 {
			e.Fatalf("queue ran dry after %d of %d messages", len(seen), n)
		}
		var handles []string
		for _, m := range msgs {
			seen[m.Body]++
			if seen[m.Body] > 1 {
				e.Fatalf("message %q delivered again while its visibility timeout holds", m.Body)
			}
			handles = append(handles, m.ReceiptHandle)
		}
		e.deleteOK(url, handles...)
	}
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, bodies) {
		e.Fatalf("received %v, want %v", got, bodies)
	}
	e.wantCounts(url, counts{})
	e.advance(time.Hour)
	e.wantNone(url)
}

func testInflightLimit(e *env) {
	e.skipSlow("sends 120,000 messages")
	url := e.create("q", nil)
	// API Reference (ChangeMessageVisibility; OverLimit): "For most
	// standard queues ... there can be a maximum of approximately 120,000
	// in flight messages ... If you reach this limit, Amazon SQS returns
	// the OverLimit error message." ReceiveMessage returns it "if the
	// maximum number of in flight messages is reached".
	q := e.q(url)
	body := "x"
	entries := bodyEntries(body, body, body, body, body, body, body, body, body, body)
	for range backend.MaxInflightMessages / 10 {
		if _, err := q.Send(e.ctx, entries); err != nil {
			e.Fatalf("Send: %v", err)
		}
	}
	req := backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)}
	var first *backend.Message
	for n := 0; n < backend.MaxInflightMessages; {
		msgs, err := q.Receive(e.ctx, req)
		if err != nil || len(msgs) == 0 {
			e.Fatalf("Receive after %d messages: %d messages, error %v", n, len(msgs), err)
		}
		if first == nil {
			first = msgs[0]
		}
		n += len(msgs)
	}
	e.send(url, "one more")
	msgs, err := q.Receive(e.ctx, req)
	e.wantErr("Receive with 120,000 messages in flight", err, backend.ErrOverLimit)
	if msgs != nil {
		e.Errorf("a rejected Receive returned %d messages", len(msgs))
	}
	e.wantCounts(url, counts{Visible: 1, InFlight: backend.MaxInflightMessages})
	// Below the limit again, receiving works.
	e.deleteOK(url, first.ReceiptHandle)
	if m := e.receiveOne(url); m.Body != "one more" {
		e.Fatalf("received %q, want %q", m.Body, "one more")
	}
}
