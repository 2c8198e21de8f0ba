package backendtest

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Message system attributes and message attribute selection on receive.
func attributeScenarios() []scenario {
	return []scenario{
		{name: "SystemAttributes", run: testSystemAttributes},
		{name: "SystemAttributesSelection", run: testSystemAttributesSelection},
		{name: "MessageAttributeSelection", run: testMessageAttributeSelection},
		{name: "MessageAttributePrefix", run: testMessageAttributePrefix},
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

func testSystemAttributes(e *env) {
	url := e.create("q", nil)
	sent := e.now()
	sys := map[string]backend.MessageAttributeValue{"AWSTraceHeader": {DataType: "String", StringValue: traceHeader}}
	e.sendOK(url, backend.SendEntry{ID: "m", Body: "traced", MessageSystemAttributes: sys})
	e.advance(2 * time.Second)
	first := e.now()
	// API Reference (ReceiveMessage, MessageSystemAttributeNames):
	// SentTimestamp and ApproximateFirstReceiveTimestamp are epoch
	// milliseconds; ApproximateReceiveCount counts receives; SenderId is
	// the sender's id; AWSTraceHeader is the X-Ray header sent with the
	// message.
	names := []string{"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId", "AWSTraceHeader"}
	m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), SystemAttributeNames: names})[0]
	if got := slices.Sorted(maps.Keys(m.Attributes)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		e.Errorf("attributes %v, want exactly %v", m.Attributes, names)
	}
	want := map[string]string{
		"SentTimestamp":                    ms(sent),
		"ApproximateReceiveCount":          "1",
		"ApproximateFirstReceiveTimestamp": ms(first),
		"AWSTraceHeader":                   traceHeader,
	}
	for k, v := range want {
		if m.Attributes[k] != v {
			e.Errorf("attribute %s = %q, want %q", k, m.Attributes[k], v)
		}
	}
	sender := m.Attributes["SenderId"]
	if sender == "" {
		e.Error("SenderId is empty")
	}
	e.setVis(url, m.ReceiptHandle, 0)
	e.reopen()

	// "All" returns them too; the count goes up with every receive; the
	// first receive's time and the send time stay.
	for count := 2; count <= 4; count++ {
		e.advance(3 * time.Second)
		m = e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), SystemAttributeNames: []string{"All"}})[0]
		want["ApproximateReceiveCount"] = strconv.Itoa(count)
		for k, v := range want {
			if m.Attributes[k] != v {
				e.Errorf("receive %d with All: attribute %s = %q, want %q", count, k, m.Attributes[k], v)
			}
		}
		if m.Attributes["SenderId"] != sender {
			e.Errorf("SenderId changed from %q to %q", sender, m.Attributes["SenderId"])
		}
		// FIFO-only attributes are absent on a standard queue, and so
		// is MessageGroupId when none was sent.
		for _, k := range []string{"SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "DeadLetterQueueSourceArn"} {
			if v, ok := m.Attributes[k]; ok {
				e.Errorf("standard-queue message has %s = %q", k, v)
			}
		}
		e.setVis(url, m.ReceiptHandle, 0)
	}
}

func testSystemAttributesSelection(e *env) {
	url := e.create("q", nil)
	e.send(url, "plain")
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{nil, nil},
		{[]string{}, nil},
		{[]string{"SentTimestamp"}, []string{"SentTimestamp"}},
		{[]string{"ApproximateReceiveCount", "SenderId"}, []string{"ApproximateReceiveCount", "SenderId"}},
		// AWSTraceHeader only when the message was sent with one.
		{[]string{"AWSTraceHeader"}, nil},
		{[]string{"All"}, []string{"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SenderId", "SentTimestamp"}},
	} {
		m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), SystemAttributeNames: tc.names})[0]
		if got := slices.Sorted(maps.Keys(m.Attributes)); !slices.Equal(got, tc.want) {
			e.Errorf("SystemAttributeNames %v returned attributes %v, want keys %v", tc.names, m.Attributes, tc.want)
		}
		e.setVis(url, m.ReceiptHandle, 0)
	}
}

func testMessageAttributeSelection(e *env) {
	url := e.create("q", nil)
	attrs := map[string]backend.MessageAttributeValue{
		"a.x":   {DataType: "String", StringValue: "1"},
		"a.y":   {DataType: "Number", StringValue: "2"},
		"ab":    {DataType: "String", StringValue: "3"},
		"b":     {DataType: "Binary", BinaryValue: []byte{4}},
		"c.x.z": {DataType: "String.custom", StringValue: "5"},
	}
	e.sendOK(url, backend.SendEntry{ID: "m", Body: "attributed", MessageAttributes: attrs})
	all := slices.Sorted(maps.Keys(attrs))
	// API Reference (ReceiveMessage, MessageAttributeNames): "When using
	// ReceiveMessage, you can send a list of attribute names to receive,
	// or you can return all of the attributes by specifying All or .* in
	// your request. You can also use all message attributes starting with
	// a prefix, for example bar.*." Names are case-sensitive. What real
	// SQS does (recorded for issue 19): the prefix is what comes before
	// ".*", dot or not ("Hel.*" returns "Hello" and "Help.Me"); "*"
	// returns every attribute; a name no attribute can have ("AWS.x",
	// "..foo") is no error, the message comes without attributes.
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{nil, nil},
		{[]string{"b"}, []string{"b"}},
		{[]string{"All"}, all},
		{[]string{".*"}, all},
		{[]string{"All", "b"}, all},
		{[]string{"*"}, all},
		{[]string{"a.*"}, []string{"a.x", "a.y", "ab"}},
		{[]string{"a..*"}, []string{"a.x", "a.y"}},
		{[]string{"b", "c.*"}, []string{"b", "c.x.z"}},
		{[]string{"c.x.*"}, []string{"c.x.z"}},
		{[]string{"a.x", "a.x"}, []string{"a.x"}},
		{[]string{"zzz"}, nil},
		{[]string{"B", "A.*"}, nil},
		{[]string{"AWS.x", "..foo"}, nil},
		{[]string{"AWS.x", "b"}, []string{"b"}},
	} {
		m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), MessageAttributeNames: tc.names})[0]
		if got := slices.Sorted(maps.Keys(m.MessageAttributes)); !slices.Equal(got, tc.want) {
			e.Errorf("MessageAttributeNames %v returned %v, want keys %v", tc.names, m.MessageAttributes, tc.want)
		}
		for k, v := range m.MessageAttributes {
			if !attrEqual(v, attrs[k]) {
				e.Errorf("attribute %s came back as %+v, want %+v", k, v, attrs[k])
			}
		}
		// checkMessages has verified MD5OfMessageAttributes covers the
		// returned attributes (empty when none).
		e.setVis(url, m.ReceiptHandle, 0)
	}
}

func testMessageAttributePrefix(e *env) {
	url := e.create("q", nil)
	attrs := map[string]backend.MessageAttributeValue{
		"Hello":   {DataType: "String", StringValue: "1"},
		"Help.Me": {DataType: "String", StringValue: "2"},
		"Other":   {DataType: "String", StringValue: "3"},
	}
	e.sendOK(url, backend.SendEntry{ID: "m", Body: "attributed", MessageAttributes: attrs})
	// The recorded answer of real SQS for issue 19.
	m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), MessageAttributeNames: []string{"Hel.*"}})[0]
	if got := slices.Sorted(maps.Keys(m.MessageAttributes)); !slices.Equal(got, []string{"Hello", "Help.Me"}) {
		e.Errorf("MessageAttributeNames [Hel.*] returned %v, want Hello and Help.Me", got)
	}
}
