package largepayload_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/largepayload"
)

// Pointer messages as the Java (2.x and 1.x) and Python clients write
// them, with their payloads in S3.
func TestResolveExtendedClientMessages(t *testing.T) {
	store := largepayload.S3Store{Client: fakeS3(t)}
	ctx := context.Background()
	for _, name := range []string{"java-2.x.json", "java-1.x.json", "python.json"} {
		t.Run(name, func(t *testing.T) {
			msg := fixture(t, name)
			p, _ := largepayload.ParsePointer(msg.Body)
			payload := strings.Repeat("0123456789", 30000) // the 300000 bytes the attribute declares
			if err := store.Put(ctx, p.Bucket, p.Key, payload); err != nil {
				t.Fatal(err)
			}
			var c capture
			h := consumer.Chain(&c, largepayload.Resolve(largepayload.ResolveConfig{Store: store}))
			if err := h.HandleMessage(ctx, msg); err != nil {
				t.Fatal(err)
			}
			got := c.msgs[0]
			if got.Body != payload || got.MessageID != msg.MessageID || got.ReceiptHandle != msg.ReceiptHandle {
				t.Errorf("the handler got %.60q (%d bytes)", got.Body, len(got.Body))
			}
			if _, ok := largepayload.PayloadSize(got.MessageAttributes); ok {
				t.Error("the size attribute reached the handler")
			}
			if name == "java-2.x.json" && got.MessageAttributes["type"].StringValue != "report" {
				t.Error("the other attributes were lost")
			}
			if pp, ok := largepayload.PointerFrom(c.ctxs[0]); !ok || pp != p {
				t.Errorf("PointerFrom: %v %v", pp, ok)
			}
			if _, ok := largepayload.PayloadSize(msg.MessageAttributes); !ok || !strings.HasPrefix(msg.Body, "[") {
				t.Error("the server's message changed")
			}
			// The payload stays by default.
			if rc, err := store.Get(ctx, p.Bucket, p.Key); err != nil {
				t.Errorf("the payload is gone: %v", err)
			} else {
				rc.Close()
			}
		})
	}
}

func TestResolvePassesOthers(t *testing.T) {
	var c capture
	msg := &consumer.Message{}
	msg.Body = `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]` // no size attribute
	if err := consumer.Chain(&c, largepayload.Resolve(largepayload.ResolveConfig{Store: &largepayload.MemStore{}})).HandleMessage(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if c.msgs[0].Body != msg.Body {
		t.Error("a message without the size attribute was resolved")
	}
}

// errStore fails every Get.
type errStore struct{ largepayload.MemStore }

func (*errStore) Get(context.Context, string, string) (io.ReadCloser, error) {
	return nil, errors.New("slow down")
}

func TestResolveFailures(t *testing.T) {
	ctx := context.Background()
	mem := &largepayload.MemStore{}
	mem.Put(ctx, bucket, "k", "payload")
	pointer := func(b, k, size string) *consumer.Message {
		m := &consumer.Message{}
		m.MessageID = "m1"
		m.Body = largepayload.Pointer{Bucket: b, Key: k}.Body(false)
		m.MessageAttributes = map[string]backend.MessageAttributeValue{"ExtendedPayloadSize": {DataType: "Number", StringValue: size}}
		return m
	}
	malformed := pointer(bucket, "k", "7")
	malformed.Body = "[1,2]"
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name      string
		cfg       largepayload.ResolveConfig
		ctx       context.Context
		msg       *consumer.Message
		want      error
		permanent bool
		text      string
	}{
		{"gone", largepayload.ResolveConfig{Store: mem}, ctx, pointer(bucket, "gone", "7"), largepayload.ErrPayloadGone, true, "s3://extended-client-bucket/gone does not exist"},
		{"malformed", largepayload.ResolveConfig{Store: mem}, ctx, malformed, largepayload.ErrBadPointer, true, "m1"},
		{"bucket not allowed", largepayload.ResolveConfig{Store: mem, Buckets: []string{"other"}}, ctx, pointer(bucket, "k", "7"), nil, true, "not allowed"},
		{"declared too large", largepayload.ResolveConfig{Store: mem, MaxPayload: 6}, ctx, pointer(bucket, "k", "7"), nil, true, "over the limit"},
		{"actually too large", largepayload.ResolveConfig{Store: mem, MaxPayload: 6}, ctx, pointer(bucket, "k", "1"), nil, true, "over the limit"},
		{"store error", largepayload.ResolveConfig{Store: &errStore{}}, ctx, pointer(bucket, "k", "7"), nil, false, "slow down"},
		{"context ended", largepayload.ResolveConfig{Store: mem}, cancelled, pointer(bucket, "k", "7"), context.Canceled, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c capture
			err := consumer.Chain(&c, largepayload.Resolve(tc.cfg)).HandleMessage(tc.ctx, tc.msg)
			if err == nil || len(c.msgs) != 0 {
				t.Fatalf("err %v, handler ran %d times", err, len(c.msgs))
			}
			if tc.want != nil && !errors.Is(err, tc.want) || consumer.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err %v (permanent %v), want %v permanent %v with %q", err, consumer.IsPermanent(err), tc.want, tc.permanent, tc.text)
			}
		})
	}
}

func TestResolveDeletes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		delete    bool
		handler   error
		wantStays bool
	}{
		{"off by default", false, nil, true},
		{"after success", true, nil, false},
		{"not after failure", true, errors.New("failed"), true},
		{"not after a permanent failure", true, consumer.Permanent(errors.New("bad")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := &largepayload.MemStore{}
			mem.Put(ctx, bucket, "k", "payload")
			m := &consumer.Message{}
			m.Body = largepayload.Pointer{Bucket: bucket, Key: "k"}.Body(false)
			m.MessageAttributes = map[string]backend.MessageAttributeValue{"SQSLargePayloadSize": {DataType: "Number", StringValue: "7"}}
			c := capture{err: tc.handler}
			err := consumer.Chain(&c, largepayload.Resolve(largepayload.ResolveConfig{Store: mem, DeleteAfterSuccess: tc.delete})).HandleMessage(ctx, m)
			if !errors.Is(err, tc.handler) {
				t.Errorf("err %v, want the handler's %v", err, tc.handler)
			}
			if stays := mem.Len() == 1; stays != tc.wantStays {
				t.Errorf("payload stays: %v, want %v", stays, tc.wantStays)
			}
		})
	}
}
