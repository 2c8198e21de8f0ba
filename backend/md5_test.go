package backend

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"
	"testing"
)

// referenceMD5OfAttributes is an independent implementation of SQS's
// attribute digest, written from the encoding the AWS SDKs that verify it
// (the Java SDK's MessageMD5ChecksumInterceptor, aws-sdk-go v1's
// checksums.go) use: names sorted; per attribute, length-prefixed name,
// length-prefixed data type, a transport byte, length-prefixed value.
func referenceMD5OfAttributes(attrs map[string]MessageAttributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	put := func(p []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(p)))
		b.Write(p)
	}
	for _, k := range keys {
		v := attrs[k]
		put([]byte(k))
		put([]byte(v.DataType))
		if strings.HasPrefix(v.DataType, "Binary") {
			b.WriteByte(2)
			put(v.BinaryValue)
		} else {
			b.WriteByte(1)
			put([]byte(v.StringValue))
		}
	}
	sum := md5.Sum(b.Bytes())
	return hex.EncodeToString(sum[:])
}

func TestMD5OfBody(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		// RFC 1321 test suite and values real SQS returned.
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"test", "098f6bcd4621d373cade4e832627b4f6"},
		{"bar", "37b51d194a7513e45b56f6524f2d51f2"},
	} {
		if got := MD5OfBody(tc.body); got != tc.want {
			t.Errorf("MD5OfBody(%q) = %s, want %s", tc.body, got, tc.want)
		}
	}
	// Non-ASCII bodies are digested as their UTF-8 bytes.
	body := "héllo \U0001F600"
	sum := md5.Sum([]byte(body))
	if got, want := MD5OfBody(body), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("MD5OfBody(%q) = %s, want %s", body, got, want)
	}
}

func TestMD5OfMessageAttributesKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string]MessageAttributeValue
		want  string
	}{
		{"nil", nil, ""},
		{"empty", map[string]MessageAttributeValue{}, ""},
		{
			// The sample of the AWS SDK for Java's checksum tests.
			"amazon sample strings",
			map[string]MessageAttributeValue{
				"test_attribute_name_2": {DataType: "String", StringValue: "test_attribute_value_2"},
				"test_attribute_name_1": {DataType: "String", StringValue: "test_attribute_value_1"},
			},
			"d53f3b558fe951154770f25cb63dbba9",
		},
		{
			"amazon sample binary",
			map[string]MessageAttributeValue{
				"test_attribute_name": {DataType: "Binary", BinaryValue: []byte("test_attribute_value")},
			},
			"23f6bd27ea87aab7dfeadcc9aebee495",
		},
		{
			// The SQS Developer Guide's "sending a message with
			// attributes" example.
			"developer guide example",
			map[string]MessageAttributeValue{
				"SellerName": {DataType: "String", StringValue: "Example Store"},
			},
			"cd28f3b68aeee4b2eac9c66f2f694b58",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MD5OfMessageAttributes(tc.attrs); got != tc.want {
				t.Errorf("MD5OfMessageAttributes = %q, want %q", got, tc.want)
			}
			if got := referenceMD5OfAttributes(tc.attrs); got != tc.want {
				t.Errorf("reference implementation = %q, want %q (the oracle is wrong)", got, tc.want)
			}
		})
	}
}

func TestMD5OfMessageAttributesMatchesReference(t *testing.T) {
	cases := []map[string]MessageAttributeValue{
		{"n": {DataType: "Number", StringValue: "1"}},
		{"n": {DataType: "Number.int", StringValue: "-12.5e3"}},
		{"s": {DataType: "String.custom", StringValue: "héllo \U0001F600"}},
		{"b": {DataType: "Binary.png", BinaryValue: []byte{0, 1, 2, 0xff}}},
		{
			"a": {DataType: "String", StringValue: "x"},
			"B": {DataType: "Binary", BinaryValue: []byte("y")},
			"c": {DataType: "Number", StringValue: "3"},
			"_": {DataType: "String", StringValue: "z"},
		},
		// Names that sort differently by byte and by case.
		{"Zeta": {DataType: "String", StringValue: "1"}, "alpha": {DataType: "String", StringValue: "2"}},
	}
	for i, attrs := range cases {
		if got, want := MD5OfMessageAttributes(attrs), referenceMD5OfAttributes(attrs); got != want {
			t.Errorf("case %d: MD5OfMessageAttributes = %s, reference %s", i, got, want)
		}
	}
}

func TestMD5OfMessageAttributesDistinguishesFields(t *testing.T) {
	// Moving bytes between fields changes the digest: the encoding is
	// length-prefixed, so "ab"+"c" differs from "a"+"bc".
	a := MD5OfMessageAttributes(map[string]MessageAttributeValue{"ab": {DataType: "String", StringValue: "c"}})
	b := MD5OfMessageAttributes(map[string]MessageAttributeValue{"a": {DataType: "String", StringValue: "bc"}})
	if a == b {
		t.Error("different attributes digest alike")
	}
	// The transport byte separates String from Binary with the same bytes.
	s := MD5OfMessageAttributes(map[string]MessageAttributeValue{"a": {DataType: "String.x", StringValue: "v"}})
	bin := MD5OfMessageAttributes(map[string]MessageAttributeValue{"a": {DataType: "Binary.x", BinaryValue: []byte("v")}})
	if s == bin {
		t.Error("String and Binary attributes with the same bytes digest alike")
	}
}

func TestMD5OfMessageAttributesSystemAttribute(t *testing.T) {
	// MD5OfMessageSystemAttributes uses the same encoding.
	attrs := map[string]MessageAttributeValue{
		"AWSTraceHeader": {DataType: "String", StringValue: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
	}
	if got, want := MD5OfMessageAttributes(attrs), referenceMD5OfAttributes(attrs); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMD5OfMessageAttributesAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = MD5OfMessageAttributes(nil) }); n != 0 {
		t.Errorf("empty attributes: %v allocations, want 0", n)
	}
}

func BenchmarkMD5OfMessageAttributes(b *testing.B) {
	attrs := map[string]MessageAttributeValue{
		"trace-id":     {DataType: "String", StringValue: strings.Repeat("t", 32)},
		"attempt":      {DataType: "Number", StringValue: "3"},
		"content-type": {DataType: "String", StringValue: "application/json"},
		"payload":      {DataType: "Binary", BinaryValue: bytes.Repeat([]byte{7}, 256)},
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = MD5OfMessageAttributes(attrs)
	}
}

func BenchmarkMD5OfBody(b *testing.B) {
	body := strings.Repeat("x", 256)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = MD5OfBody(body)
	}
}
