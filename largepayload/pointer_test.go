package largepayload_test

import (
	"errors"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/largepayload"
)

func TestPointerBody(t *testing.T) {
	p := largepayload.Pointer{Bucket: bucket, Key: "e8e1d3b6-5f4c-4f6f-9f55-0b8c41a2f9d7"}
	// Byte for byte what the Java client writes (testdata/java-2.x.json).
	if got := p.Body(false); got != fixture(t, "java-2.x.json").Body {
		t.Errorf("Body: %s", got)
	}
	legacy := largepayload.Pointer{Bucket: bucket, Key: "0d3cbd4f-7e1a-4d7a-8c1b-5a0f2e9d6c43"}
	if got := legacy.Body(true); got != fixture(t, "java-1.x.json").Body {
		t.Errorf("legacy Body: %s", got)
	}
	if p.String() != "s3://extended-client-bucket/e8e1d3b6-5f4c-4f6f-9f55-0b8c41a2f9d7" {
		t.Errorf("String: %s", p)
	}
}

func TestParsePointer(t *testing.T) {
	for name, key := range map[string]string{
		"java-2.x.json": "e8e1d3b6-5f4c-4f6f-9f55-0b8c41a2f9d7",
		"java-1.x.json": "0d3cbd4f-7e1a-4d7a-8c1b-5a0f2e9d6c43",
		"python.json":   "4a7e9c2b-1d3f-4b5a-9e8d-7c6b5a4f3e21",
	} {
		p, err := largepayload.ParsePointer(fixture(t, name).Body)
		if err != nil || p.Bucket != bucket || p.Key != key {
			t.Errorf("%s: %+v %v", name, p, err)
		}
	}
	for _, bad := range []string{
		"", "hello", "[]", `["software.amazon.payloadoffloading.PayloadS3Pointer"]`,
		`["some.other.Class",{"s3BucketName":"b","s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"},1]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer","b"]`,
	} {
		if _, err := largepayload.ParsePointer(bad); !errors.Is(err, largepayload.ErrBadPointer) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestPayloadSize(t *testing.T) {
	for _, tc := range []struct {
		attrs  map[string]backend.MessageAttributeValue
		size   int64
		marked bool
	}{
		{nil, 0, false},
		{map[string]backend.MessageAttributeValue{"type": {DataType: "String", StringValue: "x"}}, 0, false},
		{map[string]backend.MessageAttributeValue{"ExtendedPayloadSize": {DataType: "Number", StringValue: "300000"}}, 300000, true},
		{map[string]backend.MessageAttributeValue{"SQSLargePayloadSize": {DataType: "Number", StringValue: "12"}}, 12, true},
		{map[string]backend.MessageAttributeValue{"ExtendedPayloadSize": {DataType: "Number", StringValue: "x"}}, -1, true},
	} {
		size, marked := largepayload.PayloadSize(tc.attrs)
		if size != tc.size || marked != tc.marked {
			t.Errorf("%v: %d %v", tc.attrs, size, marked)
		}
	}
}

func FuzzParsePointer(f *testing.F) {
	f.Add(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`)
	f.Fuzz(func(t *testing.T, body string) {
		p, err := largepayload.ParsePointer(body)
		if err != nil {
			return
		}
		if q, err := largepayload.ParsePointer(p.Body(false)); err != nil || q != p {
			t.Errorf("%q: round trip %+v %v", body, q, err)
		}
	})
}
