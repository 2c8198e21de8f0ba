package backend

import (
	"maps"
	"slices"
	"testing"
)

func TestSystemAttributeNamesMatchModel(t *testing.T) {
	// The MessageSystemAttributeName enumeration of the SQS API model.
	want := []string{"All", "SenderId", "SentTimestamp", "ApproximateReceiveCount",
		"ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageDeduplicationId",
		"MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn"}
	if !slices.Equal(SystemAttributeNames, want) {
		t.Errorf("SystemAttributeNames = %v, want %v", SystemAttributeNames, want)
	}
}

func TestWantsSystemAttribute(t *testing.T) {
	for _, tc := range []struct {
		names []string
		name  string
		want  bool
	}{
		{nil, "SentTimestamp", false},
		{[]string{"SentTimestamp"}, "SentTimestamp", true},
		{[]string{"SenderId"}, "SentTimestamp", false},
		{[]string{"SenderId", "All"}, "SentTimestamp", true},
		{[]string{"sentTimestamp"}, "SentTimestamp", false},
		{[]string{"all"}, "SentTimestamp", false},
	} {
		if got := WantsSystemAttribute(tc.names, tc.name); got != tc.want {
			t.Errorf("WantsSystemAttribute(%v, %s) = %v", tc.names, tc.name, got)
		}
	}
}

func TestSelectMessageAttributes(t *testing.T) {
	attrs := map[string]MessageAttributeValue{
		"a":       str("1"),
		"foo.bar": str("2"),
		"foo.baz": str("3"),
		"foobar":  str("4"),
		"Foo.x":   str("5"),
		"foo":     str("6"),
	}
	pick := func(keys ...string) map[string]MessageAttributeValue {
		if len(keys) == 0 {
			return nil
		}
		out := map[string]MessageAttributeValue{}
		for _, k := range keys {
			out[k] = attrs[k]
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		names []string
		want  map[string]MessageAttributeValue
	}{
		{"none asked", nil, nil},
		{"All", []string{"All"}, attrs},
		{".*", []string{".*"}, attrs},
		{"All among others", []string{"a", "All"}, attrs},
		{"exact", []string{"a"}, pick("a")},
		{"exact missing", []string{"zzz"}, nil},
		{"case-sensitive", []string{"A"}, nil},
		{"*", []string{"*"}, attrs},
		{"prefix", []string{"foo.*"}, pick("foo.bar", "foo.baz", "foobar", "foo")},
		{"prefix ending in a dot", []string{"foo..*"}, pick("foo.bar", "foo.baz")},
		{"prefix is case-sensitive", []string{"Foo.*"}, pick("Foo.x")},
		{"prefix and exact", []string{"foo..*", "a", "foo"}, pick("foo.bar", "foo.baz", "a", "foo")},
		{"prefix within a name", []string{"fo.*"}, pick("foo.bar", "foo.baz", "foobar", "foo")},
		{"nested prefix", []string{"foo.bar.*"}, pick("foo.bar")},
		{"star without dot", []string{"foo*"}, nil},
		{"names no attribute can have", []string{"AWS.x", "..foo", ""}, nil},
		{"all of them by name", []string{"a", "foo.bar", "foo.baz", "foobar", "Foo.x", "foo"}, attrs},
		{"lowercase all", []string{"all"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SelectMessageAttributes(attrs, tc.names)
			if !maps.EqualFunc(got, tc.want, attrEqual) || (got == nil) != (tc.want == nil) {
				t.Errorf("SelectMessageAttributes(%v) = %v, want %v", tc.names, got, tc.want)
			}
		})
	}
	// The result is never the stored map itself.
	got := SelectMessageAttributes(attrs, []string{"All"})
	got["new"] = str("x")
	if _, ok := attrs["new"]; ok {
		t.Error("the selection aliases its input")
	}
}

func TestSelectMessageAttributesEmpty(t *testing.T) {
	names := []string{"All"}
	if got := SelectMessageAttributes(nil, names); got != nil {
		t.Errorf("got %v", got)
	}
	empty := map[string]MessageAttributeValue{}
	if got := SelectMessageAttributes(empty, names); got != nil {
		t.Errorf("got %v", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = SelectMessageAttributes(empty, names) }); n != 0 {
		t.Errorf("allocates %v times on empty attributes", n)
	}
	one := map[string]MessageAttributeValue{"a": str("1")}
	none := []string{"b"}
	if n := testing.AllocsPerRun(100, func() { _ = SelectMessageAttributes(one, none) }); n != 0 {
		t.Errorf("allocates %v times selecting nothing", n)
	}
}

func attrEqual(a, b MessageAttributeValue) bool {
	return a.DataType == b.DataType && a.StringValue == b.StringValue && slices.Equal(a.BinaryValue, b.BinaryValue)
}
