package backendtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Queue administration: CreateQueue, DeleteQueue, QueueURL, ListQueues,
// Get/SetAttributes, Purge and tags.
func adminScenarios() []scenario {
	return []scenario{
		{name: "CreateDefaults", run: testCreateDefaults},
		{name: "CreateIdempotent", run: testCreateIdempotent},
		{name: "CreateDeletedRecently", run: testCreateDeletedRecently},
		{name: "CreateInvalidName", run: testCreateInvalidName},
		{name: "CreateUnknownAttribute", run: testCreateUnknownAttribute},
		{name: "CreateInvalidAttributeValue", run: testCreateInvalidAttributeValue},
		{name: "CreateBoundaryAttributeValues", run: testCreateBoundaryAttributeValues},
		{name: "FifoQueueOnlyAtCreation", run: testFifoQueueOnlyAtCreation},
		{name: "FifoQueueFalseOnStandard", run: testFifoQueueFalseOnStandard},
		{name: "SSEExclusive", run: testSSEExclusive},
		{name: "SqsManagedSseEnabledReported", run: testSqsManagedSseEnabledReported},
		{name: "DeleteQueue", run: testDeleteQueue},
		{name: "QueueURL", run: testQueueURL},
		{name: "ListQueuesPrefix", run: testListQueuesPrefix},
		{name: "ListQueuesPaging", run: testListQueuesPaging},
		{name: "ListQueuesMaxResultsRange", run: testListQueuesMaxResultsRange},
		{name: "GetAttributesNames", run: testGetAttributesNames},
		{name: "ApproximateCounts", run: testApproximateCounts},
		{name: "Timestamps", run: testTimestamps},
		{name: "SetAttributes", run: testSetAttributes},
		{name: "SetAttributesAllOrNothing", run: testSetAttributesAllOrNothing},
		{name: "Purge", run: testPurge},
		{name: "Tags", run: testTags},
		{name: "TagLimits", run: testTagLimits},
		{name: "Permissions", run: testPermissions},
	}
}

// standardAttributeNames are the attributes GetQueueAttributes returns for
// a standard queue with "All" (the model's QueueAttributeName enum, less
// FIFO-only, dead-letter, KMS and policy attributes that are absent until
// set).
var standardAttributeNames = []string{
	"ApproximateNumberOfMessages",
	"ApproximateNumberOfMessagesDelayed",
	"ApproximateNumberOfMessagesNotVisible",
	"CreatedTimestamp",
	"DelaySeconds",
	"LastModifiedTimestamp",
	"MaximumMessageSize",
	"MessageRetentionPeriod",
	"QueueArn",
	"ReceiveMessageWaitTimeSeconds",
	"VisibilityTimeout",
}

// settableAttributes holds, for each attribute SetQueueAttributes may
// change on a standard queue, its valid range (API Reference,
// CreateQueue/SetQueueAttributes "Attributes") and default.
var settableAttributes = []struct {
	name     string
	min, max int
	def      int
}{
	{"DelaySeconds", 0, backend.MaxDelaySeconds, 0},
	{"MaximumMessageSize", backend.MinMaximumMessageSize, backend.MaxMessageSize, backend.MaxMessageSize},
	{"MessageRetentionPeriod", backend.MinRetentionPeriod, backend.MaxRetentionPeriod, backend.DefaultRetentionPeriod},
	{"ReceiveMessageWaitTimeSeconds", 0, backend.MaxWaitTimeSeconds, 0},
	{"VisibilityTimeout", 0, backend.MaxVisibilityTimeout, backend.DefaultVisibilityTimeout},
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func testCreateDefaults(e *env) {
	created := e.now()
	url := e.create("orders", nil)
	all := e.allAttrs(url)
	want := backend.Attributes{
		"ApproximateNumberOfMessages":           "0",
		"ApproximateNumberOfMessagesDelayed":    "0",
		"ApproximateNumberOfMessagesNotVisible": "0",
		"CreatedTimestamp":                      unix(created),
		"LastModifiedTimestamp":                 unix(created),
	}
	for _, a := range settableAttributes {
		want[a.name] = strconv.Itoa(a.def)
	}
	for _, name := range standardAttributeNames {
		if name == "QueueArn" {
			continue
		}
		if all[name] != want[name] {
			e.Errorf("GetAttributes(All)[%s] = %q, want %q", name, all[name], want[name])
		}
	}
	if _, _, name, ok := arnParts(all["QueueArn"]); !ok || name != "orders" {
		e.Errorf("QueueArn = %q, want arn:aws:sqs:<region>:<account>:orders", all["QueueArn"])
	}
	// Each attribute asked for by name comes back alone, with the value
	// "All" gives.
	for _, name := range standardAttributeNames {
		got := e.attrs(url, name)
		if !maps.Equal(got, backend.Attributes{name: all[name]}) {
			e.Errorf("GetAttributes(%s) = %v, want only %s=%q", name, got, name, all[name])
		}
	}
	if got := e.listAll(""); !slices.Equal(got, []string{url}) {
		e.Errorf("ListQueues = %v, want [%s]", got, url)
	}
}

func testCreateIdempotent(e *env) {
	attrs := backend.Attributes{"VisibilityTimeout": "60", "MaximumMessageSize": "2048"}
	url := e.create("jobs", attrs)
	e.send(url, "keep")

	// The API Reference (CreateQueue): "If you specify the name of an
	// existing queue and provide the exact same names and values for all its
	// attributes, the CreateQueue action will return the URL of the existing
	// queue"; the contract: when every attribute given matches.
	for _, same := range []backend.Attributes{
		attrs,
		{"VisibilityTimeout": "60"},
		nil,
		{"MessageRetentionPeriod": strconv.Itoa(backend.DefaultRetentionPeriod)}, // a default, matching
	} {
		got, err := e.svc().CreateQueue(e.ctx, "jobs", same, nil)
		if err != nil {
			e.Fatalf("CreateQueue again with %v: %v", same, err)
		}
		if got != url {
			e.Fatalf("CreateQueue again with %v returned %q, want the existing %q", same, got, url)
		}
	}
	// "If you attempt to create a queue with a name that already exists but
	// with different attribute names or values, the CreateQueue action will
	// return an error."
	for _, differ := range []backend.Attributes{
		{"VisibilityTimeout": "61"},
		{"VisibilityTimeout": "60", "MaximumMessageSize": "4096"},
		{"DelaySeconds": "1"},
	} {
		_, err := e.svc().CreateQueue(e.ctx, "jobs", differ, nil)
		e.wantErr(fmt.Sprintf("CreateQueue existing with %v", differ), err, backend.ErrQueueNameExists)
	}
	e.wantAttrs(url, backend.Attributes{"VisibilityTimeout": "60", "MaximumMessageSize": "2048", "DelaySeconds": "0"})
	if got := e.listAll(""); len(got) != 1 {
		e.Fatalf("ListQueues = %v, want one queue", got)
	}
	e.wantCounts(url, counts{Visible: 1})
	e.wantBodies(url, "keep")
}

func testCreateDeletedRecently(e *env) {
	url := e.create("gone", nil)
	e.send(url, "old")
	if err := e.svc().DeleteQueue(e.ctx, url); err != nil {
		e.Fatalf("DeleteQueue: %v", err)
	}
	// API Reference (CreateQueue, DeleteQueue): "When you delete a queue,
	// you must wait at least 60 seconds before creating a queue with the
	// same name."
	_, err := e.svc().CreateQueue(e.ctx, "gone", nil, nil)
	e.wantErr("CreateQueue right after DeleteQueue", err, backend.ErrQueueDeletedRecently)
	e.advance(59 * time.Second)
	_, err = e.svc().CreateQueue(e.ctx, "gone", backend.Attributes{"VisibilityTimeout": "5"}, nil)
	e.wantErr("CreateQueue 59 s after DeleteQueue", err, backend.ErrQueueDeletedRecently)
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}
	_, err = e.svc().QueueURL(e.ctx, "gone", "")
	e.wantErr("QueueURL of the deleted queue", err, backend.ErrQueueDoesNotExist)
	// Other names are not affected.
	e.create("other", nil)

	e.advance(time.Second)
	url2 := e.create("gone", nil)
	e.wantCounts(url2, counts{})
	e.wantNone(url2)
}

func testCreateInvalidName(e *env) {
	// API Reference (CreateQueue, QueueName): up to 80 characters of
	// alphanumerics, hyphens and underscores; a FIFO queue's name ends in
	// ".fifo". A ".fifo" name without FifoQueue=true is rejected with
	// InvalidParameterValue (boto/botocore#3058, real SQS output).
	for _, name := range []string{
		"",
		strings.Repeat("a", backend.MaxQueueNameLength+1),
		"has space",
		"dot.ted",
		"slash/ed",
		"colon:ed",
		"ümlaut",
		"std.fifo",
	} {
		_, err := e.svc().CreateQueue(e.ctx, name, nil, nil)
		e.wantErr(fmt.Sprintf("CreateQueue(%q)", name), err, backend.ErrInvalidParameterValue)
	}
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}
	for _, name := range []string{
		strings.Repeat("a", backend.MaxQueueNameLength),
		"Az09-_",
		"x",
	} {
		url := e.create(name, nil)
		a := e.attrs(url, "QueueArn")
		if _, _, n, _ := arnParts(a["QueueArn"]); n != name {
			e.Errorf("queue %q has QueueArn %q", name, a["QueueArn"])
		}
	}
}

func testCreateUnknownAttribute(e *env) {
	for _, attrs := range []backend.Attributes{
		{"Foo": "1"},
		{"VisibilityTimeout": "10", "visibilitytimeout": "10"}, // names are case-sensitive
		// Read-only attributes cannot be given.
		{"ApproximateNumberOfMessages": "0"},
		{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"},
		{"CreatedTimestamp": "1"},
	} {
		_, err := e.svc().CreateQueue(e.ctx, "q", attrs, nil)
		e.wantErr(fmt.Sprintf("CreateQueue with %v", attrs), err, backend.ErrInvalidAttributeName)
	}
	_, err := e.svc().QueueURL(e.ctx, "q", "")
	e.wantErr("QueueURL after rejected creates", err, backend.ErrQueueDoesNotExist)
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}
}

// invalidAttributeValues are out-of-range or malformed values of the
// settable attributes: InvalidAttributeValue in CreateQueue and
// SetQueueAttributes.
func invalidAttributeValues() []backend.Attributes {
	var out []backend.Attributes
	for _, a := range settableAttributes {
		for _, v := range []string{strconv.Itoa(a.min - 1), strconv.Itoa(a.max + 1), "abc", "1.5"} {
			out = append(out, backend.Attributes{a.name: v})
		}
	}
	// API Reference (CreateQueue, Attributes): KmsDataKeyReusePeriodSeconds
	// is "An integer representing seconds, between 60 seconds (1 minute)
	// and 86,400 seconds (24 hours)"; SqsManagedSseEnabled is a boolean.
	for _, v := range []string{"59", "86401", "abc"} {
		out = append(out, backend.Attributes{"KmsDataKeyReusePeriodSeconds": v})
	}
	out = append(out, backend.Attributes{"SqsManagedSseEnabled": "yes"})
	return out
}

func testCreateInvalidAttributeValue(e *env) {
	for _, attrs := range invalidAttributeValues() {
		_, err := e.svc().CreateQueue(e.ctx, "q", attrs, nil)
		e.wantErr(fmt.Sprintf("CreateQueue with %v", attrs), err, backend.ErrInvalidAttributeValue)
	}
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after rejected creates, want none", got)
	}
}

func testCreateBoundaryAttributeValues(e *env) {
	for i, a := range settableAttributes {
		for j, v := range []int{a.min, a.max} {
			attrs := backend.Attributes{a.name: strconv.Itoa(v)}
			url := e.create(fmt.Sprintf("q%d-%d", i, j), attrs)
			e.wantAttrs(url, attrs)
		}
	}
}

func testFifoQueueOnlyAtCreation(e *env) {
	// FifoQueue=true needs a ".fifo" name.
	_, err := e.svc().CreateQueue(e.ctx, "plain", backend.Attributes{"FifoQueue": "true"}, nil)
	e.wantErr("CreateQueue(plain, FifoQueue=true)", err, backend.ErrInvalidParameterValue)
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after a rejected create, want none", got)
	}
	// API Reference (CreateQueue, FifoQueue): "You can provide this
	// attribute only during queue creation. You can't change it for an
	// existing queue." SetQueueAttributes does not know it.
	url := e.create("plain", nil)
	before := e.allAttrs(url)
	err = e.svc().SetAttributes(e.ctx, url, backend.Attributes{"FifoQueue": "true"})
	e.wantErr("SetAttributes(FifoQueue=true)", err, backend.ErrInvalidAttributeName)
	if after := e.allAttrs(url); !maps.Equal(before, after) {
		e.Fatalf("attributes changed by a rejected SetAttributes:\n before %v\n after  %v", before, after)
	}
}

func testFifoQueueFalseOnStandard(e *env) {
	// Real SQS rejects FifoQueue=false when creating a standard queue: it
	// knows the attribute only as true (recorded for issue 19). The
	// message is exactly "Unknown Attribute FifoQueue.", as it is for
	// SetQueueAttributes on any queue.
	_, err := e.svc().CreateQueue(e.ctx, "plain", backend.Attributes{"FifoQueue": "false"}, nil)
	e.wantErr("CreateQueue(plain, FifoQueue=false)", err, backend.ErrInvalidAttributeName)
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after a rejected create, want none", got)
	}
	url := e.create("plain", nil)
	err = e.svc().SetAttributes(e.ctx, url, backend.Attributes{"FifoQueue": "false"})
	e.wantErr("SetAttributes(FifoQueue=false)", err, backend.ErrInvalidAttributeName)
	e.wantMessage("SetAttributes(FifoQueue=false)", err, "Unknown Attribute FifoQueue.")
}

func testSSEExclusive(e *env) {
	// A KMS key and SqsManagedSseEnabled=true are mutually exclusive: real
	// SQS rejects the pair (recorded for issue 19), in CreateQueue and
	// SetQueueAttributes, and changes nothing.
	both := backend.Attributes{"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "true"}
	_, err := e.svc().CreateQueue(e.ctx, "q", both, nil)
	e.wantErr("CreateQueue with KmsMasterKeyId and SqsManagedSseEnabled=true", err, backend.ErrInvalidAttributeValue)
	if got := e.listAll(""); len(got) != 0 {
		e.Fatalf("ListQueues = %v after a rejected create, want none", got)
	}
	url := e.create("q", nil)
	before := e.allAttrs(url)
	err = e.svc().SetAttributes(e.ctx, url, both)
	e.wantErr("SetAttributes with KmsMasterKeyId and SqsManagedSseEnabled=true", err, backend.ErrInvalidAttributeValue)
	if after := e.allAttrs(url); !maps.Equal(before, after) {
		e.Fatalf("attributes changed by a rejected SetAttributes:\n before %v\n after  %v", before, after)
	}
	// A key with SqsManagedSseEnabled=false is fine.
	e.setAttrs(url, backend.Attributes{"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"})
	e.wantAttrs(url, backend.Attributes{"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"})
}

func testSqsManagedSseEnabledReported(e *env) {
	// Real SQS always reports SqsManagedSseEnabled (recorded for issue
	// 19): "true" for a new queue; setting a KMS key turns it "false",
	// and it stays "false" when the key is cleared again.
	url := e.create("q", nil)
	e.wantAttrs(url, backend.Attributes{"SqsManagedSseEnabled": "true"})
	if v := e.allAttrs(url)["SqsManagedSseEnabled"]; v != "true" {
		e.Errorf("GetAttributes(All) of a new queue: SqsManagedSseEnabled = %q, want true", v)
	}
	e.setAttrs(url, backend.Attributes{"KmsMasterKeyId": "alias/aws/sqs"})
	e.wantAttrs(url, backend.Attributes{"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"})
	if v, ok := e.allAttrs(url)["SqsManagedSseEnabled"]; v != "false" || !ok {
		e.Errorf("GetAttributes(All) with a KMS key: SqsManagedSseEnabled = %q (present %v), want false", v, ok)
	}
	e.reopen()
	e.setAttrs(url, backend.Attributes{"KmsMasterKeyId": ""})
	e.wantAttrs(url, backend.Attributes{"SqsManagedSseEnabled": "false"})
	e.reopen()
	if a := e.allAttrs(url); a["SqsManagedSseEnabled"] != "false" {
		e.Errorf("after clearing the key: SqsManagedSseEnabled = %q, want false", a["SqsManagedSseEnabled"])
	}
	kms := e.create("kms", backend.Attributes{"KmsMasterKeyId": "alias/aws/sqs"})
	e.wantAttrs(kms, backend.Attributes{"SqsManagedSseEnabled": "false"})
}

func testDeleteQueue(e *env) {
	url := e.create("doomed", nil)
	keep := e.create("kept", nil)
	e.send(url, "a", "b")
	e.send(keep, "k")
	m := e.receiveOne(url)
	if err := e.svc().DeleteQueue(e.ctx, url); err != nil {
		e.Fatalf("DeleteQueue: %v", err)
	}
	if got := e.listAll(""); !slices.Equal(got, []string{keep}) {
		e.Fatalf("ListQueues = %v after DeleteQueue, want [%s]", got, keep)
	}
	_, err := e.svc().QueueURL(e.ctx, "doomed", "")
	e.wantErr("QueueURL of a deleted queue", err, backend.ErrQueueDoesNotExist)

	// Every operation on the deleted queue's URL is QueueDoesNotExist.
	dne := backend.ErrQueueDoesNotExist
	e.wantErr("DeleteQueue again", e.svc().DeleteQueue(e.ctx, url), dne)
	_, err = e.svc().GetAttributes(e.ctx, url, []string{"All"})
	e.wantErr("GetAttributes", err, dne)
	e.wantErr("SetAttributes", e.svc().SetAttributes(e.ctx, url, backend.Attributes{"DelaySeconds": "1"}), dne)
	e.wantErr("Purge", e.svc().Purge(e.ctx, url), dne)
	e.wantErr("TagQueue", e.svc().TagQueue(e.ctx, url, map[string]string{"k": "v"}), dne)
	e.wantErr("UntagQueue", e.svc().UntagQueue(e.ctx, url, []string{"k"}), dne)
	_, err = e.svc().ListTags(e.ctx, url)
	e.wantErr("ListTags", err, dne)
	e.wantErr("AddPermission", e.svc().AddPermission(e.ctx, backend.PermissionRequest{
		QueueURL: url, Label: "l", AccountIDs: []string{"111122223333"}, Actions: []string{"SendMessage"}}), dne)
	e.wantErr("RemovePermission", e.svc().RemovePermission(e.ctx, url, "l"), dne)
	q := e.q(url) // Queue does not check existence; its operations do.
	sr, err := q.Send(e.ctx, bodyEntries("x"))
	e.wantErr("Send", err, dne)
	rr, err2 := q.Receive(e.ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
	e.wantErr("Receive", err2, dne)
	dr, err3 := q.Delete(e.ctx, []backend.DeleteEntry{{ID: "d", ReceiptHandle: m.ReceiptHandle}})
	e.wantErr("Delete", err3, dne)
	vr, err4 := q.ChangeVisibility(e.ctx, []backend.VisibilityEntry{{ID: "v", ReceiptHandle: m.ReceiptHandle}})
	e.wantErr("ChangeVisibility", err4, dne)
	if sr != nil || rr != nil || dr != nil || vr != nil {
		e.Errorf("failed requests returned results: %v %v %v %v", sr, rr, dr, vr)
	}
	// The other queue is untouched.
	e.wantCounts(keep, counts{Visible: 1})
	e.wantBodies(keep, "k")
}

func testQueueURL(e *env) {
	url := e.create("alpha", nil)
	e.create("alphabet", nil)
	got, err := e.svc().QueueURL(e.ctx, "alpha", "")
	if err != nil || got != url {
		e.Fatalf("QueueURL(alpha) = %q, %v; want %q", got, err, url)
	}
	_, account, _, ok := arnParts(e.attrs(url, "QueueArn")["QueueArn"])
	if !ok {
		e.Fatal("QueueArn is malformed")
	}
	got, err = e.svc().QueueURL(e.ctx, "alpha", account)
	if err != nil || got != url {
		e.Fatalf("QueueURL(alpha, %s) = %q, %v; want %q", account, got, err, url)
	}
	_, err = e.svc().QueueURL(e.ctx, "alpha", "999999999999")
	e.wantErr("QueueURL(alpha) in another account", err, backend.ErrQueueDoesNotExist)
	for _, name := range []string{"Alpha", "alp", "beta"} { // names are case-sensitive; no prefix match
		_, err := e.svc().QueueURL(e.ctx, name, "")
		e.wantErr(fmt.Sprintf("QueueURL(%q)", name), err, backend.ErrQueueDoesNotExist)
	}
}

// makeQueues creates the queues the ListQueues scenarios list: a00..a24,
// ab and b, and returns their URLs by name.
func (e *env) makeQueues() map[string]string {
	e.Helper()
	urls := map[string]string{}
	for i := range 25 {
		name := fmt.Sprintf("a%02d", i)
		urls[name] = e.create(name, nil)
	}
	for _, name := range []string{"ab", "b"} {
		urls[name] = e.create(name, nil)
	}
	return urls
}

// urlsWithPrefix returns the sorted URLs of the names with prefix.
func urlsWithPrefix(urls map[string]string, prefix string) []string {
	var out []string
	for name, u := range urls {
		if strings.HasPrefix(name, prefix) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

func testListQueuesPrefix(e *env) {
	urls := e.makeQueues()
	// API Reference (ListQueues, QueueNamePrefix): "Only those queues
	// whose name begins with the specified string are returned. Queue URLs
	// and names are case-sensitive."
	for _, prefix := range []string{"", "a", "a1", "a24", "ab", "b", "c", "A", "B"} {
		want := urlsWithPrefix(urls, prefix)
		if got := e.listAll(prefix); !slices.Equal(got, want) {
			e.Errorf("ListQueues(prefix %q) = %d queues %v, want %d %v", prefix, len(got), got, len(want), want)
		}
	}
}

func testListQueuesPaging(e *env) {
	urls := e.makeQueues()
	for _, tc := range []struct {
		prefix string
		max    int
	}{
		{"", 1}, {"", 4}, {"", 26}, {"", 27}, {"", 1000},
		{"a", 5}, {"a1", 3}, {"b", 1}, {"c", 10},
	} {
		want := urlsWithPrefix(urls, tc.prefix)
		var got []string
		token := ""
		for page := 0; ; page++ {
			if page > len(want)+1 {
				e.Fatalf("ListQueues(prefix %q, MaxResults %d) never ends", tc.prefix, tc.max)
			}
			r, err := e.svc().ListQueues(e.ctx, backend.ListQueuesRequest{Prefix: tc.prefix, MaxResults: tc.max, NextToken: token})
			if err != nil {
				e.Fatalf("ListQueues(prefix %q, MaxResults %d, page %d): %v", tc.prefix, tc.max, page, err)
			}
			if len(r.QueueURLs) > tc.max {
				e.Fatalf("ListQueues(MaxResults %d) returned %d URLs", tc.max, len(r.QueueURLs))
			}
			if len(r.QueueURLs) < tc.max && r.NextToken != "" {
				e.Errorf("ListQueues(prefix %q, MaxResults %d) returned a short page (%d) with NextToken %q", tc.prefix, tc.max, len(r.QueueURLs), r.NextToken)
			}
			if len(r.QueueURLs) == 0 && r.NextToken != "" {
				e.Fatalf("ListQueues returned an empty page with NextToken %q", r.NextToken)
			}
			got = append(got, r.QueueURLs...)
			if r.NextToken == "" {
				break
			}
			token = r.NextToken
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			e.Errorf("paging ListQueues(prefix %q, MaxResults %d) gave %v, want each of %v exactly once", tc.prefix, tc.max, got, want)
		}
	}
}

func testListQueuesMaxResultsRange(e *env) {
	e.makeQueues()
	// API Reference (ListQueues, MaxResults): "Value range is 1 to 1000."
	// Out of range is InvalidParameterValue, SQS's code for a parameter
	// value outside its range. (0 means "not given" in the contract.)
	for _, n := range []int{-1, 1001} {
		_, err := e.svc().ListQueues(e.ctx, backend.ListQueuesRequest{MaxResults: n})
		e.wantErr(fmt.Sprintf("ListQueues(MaxResults %d)", n), err, backend.ErrInvalidParameterValue)
	}
}

func testGetAttributesNames(e *env) {
	url := e.create("q", nil)
	// API Reference (GetQueueAttributes, AttributeNames): "if you don't
	// specify values for this parameter, the request returns empty results".
	if a := e.attrs(url); len(a) != 0 {
		e.Errorf("GetAttributes() = %v, want no attributes", a)
	}
	got := e.attrs(url, "VisibilityTimeout", "DelaySeconds")
	if !maps.Equal(got, backend.Attributes{"VisibilityTimeout": "30", "DelaySeconds": "0"}) {
		e.Errorf("GetAttributes(VisibilityTimeout, DelaySeconds) = %v", got)
	}
	for _, names := range [][]string{{"Foo"}, {"VisibilityTimeout", "Foo"}, {"visibilitytimeout"}, {"all"}} {
		_, err := e.svc().GetAttributes(e.ctx, url, names)
		e.wantErr(fmt.Sprintf("GetAttributes(%v)", names), err, backend.ErrInvalidAttributeName)
	}
}

func testApproximateCounts(e *env) {
	url := e.create("q", nil)
	e.send(url, "v1", "v2", "v3")
	e.sendOK(url,
		backend.SendEntry{ID: "d1", Body: "d1", DelaySeconds: new(30)},
		backend.SendEntry{ID: "d2", Body: "d2", DelaySeconds: new(30)})
	e.wantCounts(url, counts{Visible: 3, Delayed: 2})
	m := e.receiveOne(url)
	e.wantCounts(url, counts{Visible: 2, InFlight: 1, Delayed: 2})
	e.reopen()
	e.wantCounts(url, counts{Visible: 2, InFlight: 1, Delayed: 2})
	e.deleteOK(url, m.ReceiptHandle)
	e.wantCounts(url, counts{Visible: 2, Delayed: 2})
	e.advance(30 * time.Second)
	e.wantCounts(url, counts{Visible: 4})
	e.receiveAll(url)
	e.wantCounts(url, counts{InFlight: 4})
	e.advance(30 * time.Second) // the default visibility timeout ends
	e.wantCounts(url, counts{Visible: 4})
}

func testTimestamps(e *env) {
	created := e.now()
	url := e.create("q", nil)
	e.advance(100 * time.Second)
	e.send(url, "x") // messages do not modify the queue
	e.wantAttrs(url, backend.Attributes{"CreatedTimestamp": unix(created), "LastModifiedTimestamp": unix(created)})
	e.setAttrs(url, backend.Attributes{"VisibilityTimeout": "45"})
	e.wantAttrs(url, backend.Attributes{"CreatedTimestamp": unix(created), "LastModifiedTimestamp": unix(e.now())})
}

func testSetAttributes(e *env) {
	url := e.create("q", nil)
	set := backend.Attributes{
		"DelaySeconds":                  "7",
		"MaximumMessageSize":            "2048",
		"MessageRetentionPeriod":        "120",
		"ReceiveMessageWaitTimeSeconds": "3",
		"VisibilityTimeout":             "45",
	}
	e.setAttrs(url, set)
	e.wantAttrs(url, set)
	all := e.allAttrs(url)
	for k, v := range set {
		if all[k] != v {
			e.Errorf("GetAttributes(All)[%s] = %q, want %q", k, all[k], v)
		}
	}
	// Each attribute alone, at both ends of its range.
	for _, a := range settableAttributes {
		for _, v := range []int{a.min, a.max} {
			one := backend.Attributes{a.name: strconv.Itoa(v)}
			e.setAttrs(url, one)
			e.wantAttrs(url, one)
		}
	}
	// Policy is stored and returned (as the same JSON document).
	arn := all["QueueArn"]
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"s1","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"` + arn + `"}]}`
	e.setAttrs(url, backend.Attributes{"Policy": policy})
	var want, got any
	if err := json.Unmarshal([]byte(policy), &want); err != nil {
		e.Fatal(err)
	}
	gotPolicy := e.attrs(url, "Policy")["Policy"]
	if err := json.Unmarshal([]byte(gotPolicy), &got); err != nil || !reflect.DeepEqual(got, want) {
		e.Errorf("Policy = %q, want %q", gotPolicy, policy)
	}
	// Server-side encryption settings are stored and returned: SSE-SQS,
	// or SSE-KMS with a key and a data key reuse period (60-86,400 s).
	for _, sse := range []backend.Attributes{
		{"SqsManagedSseEnabled": "false"},
		{"SqsManagedSseEnabled": "true"},
		{"SqsManagedSseEnabled": "false"},
		{"KmsMasterKeyId": "alias/aws/sqs", "KmsDataKeyReusePeriodSeconds": "60"},
		{"KmsDataKeyReusePeriodSeconds": "86400"},
	} {
		e.setAttrs(url, sse)
		e.wantAttrs(url, sse)
	}
	e.setAttrs(url, set)
	e.reopen()
	e.wantAttrs(url, set)
}

func testSetAttributesAllOrNothing(e *env) {
	url := e.create("q", backend.Attributes{"VisibilityTimeout": "40"})
	e.send(url, "keep")
	// Move the clock so that a rejected call that touched
	// LastModifiedTimestamp would show.
	e.advance(10 * time.Second)
	before := e.allAttrs(url)
	check := func(what string, err error, target *backend.Error) {
		e.Helper()
		e.wantErr(what, err, target)
		if after := e.allAttrs(url); !maps.Equal(before, after) {
			e.Fatalf("%s changed attributes:\n before %v\n after  %v", what, before, after)
		}
	}
	// The contract (Service.SetAttributes): "on any invalid attribute
	// nothing changes".
	for _, bad := range invalidAttributeValues() {
		// One valid attribute next to the bad one.
		attrs := backend.Attributes{"DelaySeconds": "9"}
		if _, ok := bad["DelaySeconds"]; ok {
			attrs = backend.Attributes{"VisibilityTimeout": "99"}
		}
		maps.Copy(attrs, bad)
		check(fmt.Sprintf("SetAttributes(%v)", attrs), e.svc().SetAttributes(e.ctx, url, attrs), backend.ErrInvalidAttributeValue)
	}
	for _, bad := range []backend.Attributes{
		{"VisibilityTimeout": "99", "Foo": "1"},
		{"VisibilityTimeout": "99", "ApproximateNumberOfMessages": "3"},
		{"VisibilityTimeout": "99", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:x"},
		{"VisibilityTimeout": "99", "CreatedTimestamp": "1"},
		{"VisibilityTimeout": "99", "LastModifiedTimestamp": "1"},
		{"VisibilityTimeout": "99", "FifoQueue": "true"},
		{"VisibilityTimeout": "99", "All": "1"},
	} {
		check(fmt.Sprintf("SetAttributes(%v)", bad), e.svc().SetAttributes(e.ctx, url, bad), backend.ErrInvalidAttributeName)
	}
	e.wantBodies(url, "keep")
}

func testPurge(e *env) {
	url := e.create("q", nil)
	e.send(url, "a", "b", "c")
	e.sendOK(url, backend.SendEntry{ID: "d", Body: "delayed", DelaySeconds: new(100)})
	m := e.receiveOne(url)
	e.wantCounts(url, counts{Visible: 2, InFlight: 1, Delayed: 1})

	// API Reference (PurgeQueue): "Deletes available messages in a queue
	// (including in-flight messages)".
	if err := e.svc().Purge(e.ctx, url); err != nil {
		e.Fatalf("Purge: %v", err)
	}
	e.wantCounts(url, counts{})
	e.wantNone(url)
	e.advance(100 * time.Second) // the delayed message was purged too
	e.wantCounts(url, counts{})
	e.wantNone(url)
	// Deleting a message that is already gone succeeds (contract,
	// Queue.Delete).
	e.deleteOK(url, m.ReceiptHandle)

	// A second purge within 60 seconds of the first is rejected (API
	// Reference, PurgeQueueInProgress: "Indicates that the specified queue
	// previously received a PurgeQueue request within the last 60
	// seconds") and changes nothing. (The clock is now 100 s after the
	// first purge; purge again to start a new window.)
	if err := e.svc().Purge(e.ctx, url); err != nil {
		e.Fatalf("Purge 100 s after the first: %v", err)
	}
	e.advance(30 * time.Second)
	// In SQS a message sent while a purge runs may still be purged; a
	// backend here purges at once, so the rejected purge must leave it.
	e.send(url, "new")
	e.wantErr("Purge 30 s after a purge", e.svc().Purge(e.ctx, url), backend.ErrPurgeQueueInProgress)
	e.advance(29 * time.Second)
	e.wantErr("Purge 59 s after a purge", e.svc().Purge(e.ctx, url), backend.ErrPurgeQueueInProgress)
	e.wantCounts(url, counts{Visible: 1})
	e.advance(time.Second)
	if err := e.svc().Purge(e.ctx, url); err != nil {
		e.Fatalf("Purge 60 s after a purge: %v", err)
	}
	e.wantCounts(url, counts{})
	e.wantNone(url)
}

func testTags(e *env) {
	url, err := e.svc().CreateQueue(e.ctx, "q", nil, map[string]string{"team": "a", "env": "dev"})
	if err != nil {
		e.Fatalf("CreateQueue with tags: %v", err)
	}
	wantTags := func(want map[string]string) {
		e.Helper()
		if got := e.tags(url); !maps.Equal(got, want) {
			e.Fatalf("ListTags = %v, want %v", got, want)
		}
	}
	wantTags(map[string]string{"team": "a", "env": "dev"})
	// "A new tag with a key identical to that of an existing tag overwrites
	// the existing tag." Tags are case-sensitive; empty values are allowed.
	if err := e.svc().TagQueue(e.ctx, url, map[string]string{"env": "prod", "Env": "x", "cost": ""}); err != nil {
		e.Fatalf("TagQueue: %v", err)
	}
	wantTags(map[string]string{"team": "a", "env": "prod", "Env": "x", "cost": ""})
	// Removing a key that is not there is not an error.
	if err := e.svc().UntagQueue(e.ctx, url, []string{"team", "nope"}); err != nil {
		e.Fatalf("UntagQueue: %v", err)
	}
	wantTags(map[string]string{"env": "prod", "Env": "x", "cost": ""})
	e.reopen()
	wantTags(map[string]string{"env": "prod", "Env": "x", "cost": ""})
	if err := e.svc().UntagQueue(e.ctx, url, []string{"env", "Env", "cost"}); err != nil {
		e.Fatalf("UntagQueue: %v", err)
	}
	wantTags(map[string]string{})
	// Tags are not queue attributes.
	if a := e.allAttrs(url); a["team"] != "" || a["env"] != "" {
		e.Errorf("tags leaked into attributes: %v", a)
	}
}

func testTagLimits(e *env) {
	// Quotas related to queues (SQS Developer Guide): at most 50 tags per
	// queue; keys 1-128 and values 0-256 characters; the "aws:" prefix is
	// reserved. TagQueue's failures are InvalidParameterValue.
	many := func(n int, prefix string) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("%s%02d", prefix, i)] = "v"
		}
		return m
	}
	for _, tags := range []map[string]string{
		{strings.Repeat("k", backend.MaxTagKeyLength+1): "v"},
		{"k": strings.Repeat("v", backend.MaxTagValueLength+1)},
		{"": "v"},
		{"aws:cost": "v"},
		many(backend.MaxTags+1, "t"),
	} {
		_, err := e.svc().CreateQueue(e.ctx, "rejected", nil, tags)
		e.wantErr(fmt.Sprintf("CreateQueue with %d bad tags", len(tags)), err, backend.ErrInvalidParameterValue)
	}
	_, err := e.svc().QueueURL(e.ctx, "rejected", "")
	e.wantErr("QueueURL after rejected creates", err, backend.ErrQueueDoesNotExist)

	base := many(45, "base")
	url, err := e.svc().CreateQueue(e.ctx, "q", nil, base)
	if err != nil {
		e.Fatalf("CreateQueue with 45 tags: %v", err)
	}
	for _, tags := range []map[string]string{
		{strings.Repeat("k", backend.MaxTagKeyLength+1): "v"},
		{"ok": "v", "k": strings.Repeat("v", backend.MaxTagValueLength+1)},
		{"ok": "v", "": "v"},
		{"ok": "v", "aws:cost": "v"},
		many(backend.MaxTags+1, "t"),
		many(6, "new"), // 45 + 6 > 50 in total
	} {
		err := e.svc().TagQueue(e.ctx, url, tags)
		e.wantErr(fmt.Sprintf("TagQueue with %d tags", len(tags)), err, backend.ErrInvalidParameterValue)
		if got := e.tags(url); !maps.Equal(got, base) {
			e.Fatalf("a rejected TagQueue changed the tags to %v", got)
		}
	}
	// The limits themselves are allowed.
	edge := map[string]string{
		strings.Repeat("k", backend.MaxTagKeyLength): strings.Repeat("v", backend.MaxTagValueLength),
		"a": "", "b": "", "c": "", "d": "", "base00": "replaced", // 45 + 5 new
	}
	if err := e.svc().TagQueue(e.ctx, url, edge); err != nil {
		e.Fatalf("TagQueue up to 50 tags: %v", err)
	}
	if got := e.tags(url); len(got) != backend.MaxTags || got["base00"] != "replaced" {
		e.Fatalf("ListTags has %d tags (base00=%q), want 50 with base00 replaced", len(got), got["base00"])
	}
	// Replacing values of existing keys at the limit is allowed.
	if err := e.svc().TagQueue(e.ctx, url, map[string]string{"a": "1", "base01": "2"}); err != nil {
		e.Fatalf("TagQueue replacing at 50 tags: %v", err)
	}
}

func testPermissions(e *env) {
	url := e.create("q", nil)
	arn := e.attrs(url, "QueueArn")["QueueArn"]
	add := func(label string) error {
		return e.svc().AddPermission(e.ctx, backend.PermissionRequest{
			QueueURL: url, Label: label, AccountIDs: []string{"111122223333"}, Actions: []string{"SendMessage"},
		})
	}
	if err := add("AliceSend"); err != nil {
		e.Fatalf("AddPermission: %v", err)
	}
	// API Reference (AddPermission): "AddPermission generates a policy
	// for you": the queue's Policy holds a statement whose Sid is the
	// label.
	e.wantPolicySids(url, arn, "AliceSend")
	// The policy real SQS writes (recorded for issue 19): version
	// 2008-10-17, a single principal or action as a string.
	e.wantSameJSON("Policy written by AddPermission", e.attrs(url, "Policy")["Policy"],
		`{"Version":"2008-10-17","Id":"`+arn+`/SQSDefaultPolicy","Statement":[{"Sid":"AliceSend","Effect":"Allow",`+
			`"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"SQS:SendMessage","Resource":"`+arn+`"}]}`)
	if err := e.svc().AddPermission(e.ctx, backend.PermissionRequest{QueueURL: url, Label: "Many",
		AccountIDs: []string{"111122223333", "444455556666"}, Actions: []string{"SendMessage", "ReceiveMessage"}}); err != nil {
		e.Fatalf("AddPermission of two accounts and actions: %v", err)
	}
	e.wantSameJSON("Policy after a second AddPermission", e.attrs(url, "Policy")["Policy"],
		`{"Version":"2008-10-17","Id":"`+arn+`/SQSDefaultPolicy","Statement":[{"Sid":"AliceSend","Effect":"Allow",`+
			`"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"SQS:SendMessage","Resource":"`+arn+`"},`+
			`{"Sid":"Many","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::444455556666:root"]},`+
			`"Action":["SQS:SendMessage","SQS:ReceiveMessage"],"Resource":"`+arn+`"}]}`)
	if err := e.svc().RemovePermission(e.ctx, url, "Many"); err != nil {
		e.Fatalf("RemovePermission(Many): %v", err)
	}
	// Real SQS: "Value AliceSend for parameter Label is invalid. Reason:
	// Already exists." (InvalidParameterValue).
	e.wantErr("AddPermission with a label in use", add("AliceSend"), backend.ErrInvalidParameterValue)
	// Label: "Maximum 80 characters. Allowed characters include
	// alphanumeric characters, hyphens (-), and underscores (_)."
	for _, label := range []string{"bad label", "bad.label", strings.Repeat("l", 81)} {
		e.wantErr(fmt.Sprintf("AddPermission(label %q)", label), add(label), backend.ErrInvalidParameterValue)
	}
	if err := add(strings.Repeat("l", 80)); err != nil {
		e.Fatalf("AddPermission with an 80-character label: %v", err)
	}
	if err := e.svc().RemovePermission(e.ctx, url, "AliceSend"); err != nil {
		e.Fatalf("RemovePermission: %v", err)
	}
	e.wantPolicySids(url, arn, strings.Repeat("l", 80))
	// Real SQS: "Value AliceSend for parameter Label is invalid. Reason:
	// can't find label on existing policy." (InvalidParameterValue).
	e.wantErr("RemovePermission of a removed label", e.svc().RemovePermission(e.ctx, url, "AliceSend"), backend.ErrInvalidParameterValue)
	e.wantPolicySids(url, arn, strings.Repeat("l", 80))
}

// wantPolicySids checks that the queue's Policy is a JSON policy on the
// queue whose statements have exactly the Sids given.
func (e *env) wantPolicySids(url, arn string, sids ...string) {
	e.Helper()
	raw := e.attrs(url, "Policy")["Policy"]
	var p struct {
		Statement []struct {
			Sid      string
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		e.Errorf("Policy %q is not a JSON policy: %v", raw, err)
		return
	}
	var got []string
	for _, s := range p.Statement {
		got = append(got, s.Sid)
		if s.Resource != arn {
			e.Errorf("statement %s has Resource %v, want %s", s.Sid, s.Resource, arn)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, slices.Sorted(slices.Values(sids))) {
		e.Errorf("Policy statements %v, want Sids %v (policy %s)", got, sids, raw)
	}
}
