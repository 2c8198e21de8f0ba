package largepayload_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/largepayload"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

func TestNewOffloader(t *testing.T) {
	s := &largepayload.MemStore{}
	for _, tc := range []struct {
		cfg  largepayload.Config
		want string
	}{
		{largepayload.Config{Bucket: "b"}, "Store is required"},
		{largepayload.Config{Store: s}, "Bucket is required"},
		{largepayload.Config{Store: s, Bucket: "b", Threshold: backend.MaxMessageSize + 1}, "Threshold"},
		{largepayload.Config{Store: s, Bucket: "b", Threshold: -1}, "Threshold"},
		{largepayload.Config{Store: s, Bucket: "b", Threshold: backend.MaxMessageSize}, ""},
		{largepayload.Config{Store: s, Bucket: "b"}, ""},
	} {
		_, err := largepayload.NewOffloader(tc.cfg)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestOffloadThreshold(t *testing.T) {
	store := &largepayload.MemStore{}
	o, _ := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: bucket, KeyPrefix: "jobs/"})
	attrs := map[string]backend.MessageAttributeValue{"type": {DataType: "String", StringValue: "report"}}
	room := largepayload.DefaultThreshold - backend.MessageSize("", attrs)

	at, err := o.Message(context.Background(), producer.Message{Body: strings.Repeat("x", room), Attributes: attrs})
	if err != nil || len(at.Body) != room || store.Len() != 0 {
		t.Fatalf("a message at the threshold was offloaded: %v, %d stored", err, store.Len())
	}
	over := strings.Repeat("é", (room+2)/2) // counted in UTF-8 bytes
	m, err := o.Message(context.Background(), producer.Message{Body: over, Attributes: attrs, GroupID: "g"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := largepayload.ParsePointer(m.Body)
	if err != nil || p.Bucket != bucket || !strings.HasPrefix(p.Key, "jobs/") || len(p.Key) != len("jobs/")+36 {
		t.Fatalf("pointer %+v %v", p, err)
	}
	if got := m.Attributes["ExtendedPayloadSize"]; got.DataType != "Number" || got.StringValue != fmt.Sprint(len(over)) {
		t.Errorf("size attribute %+v, want %d", got, len(over))
	}
	if m.Attributes["type"].StringValue != "report" || m.GroupID != "g" || len(attrs) != 1 {
		t.Errorf("the message lost its fields, or the caller's map changed: %+v", m)
	}
	if store.Len() != 1 {
		t.Errorf("%d payloads stored", store.Len())
	}
}

func TestOffloadOptions(t *testing.T) {
	store := &largepayload.MemStore{}
	o, _ := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: bucket, Always: true, Legacy: true})
	m, err := o.Message(context.Background(), producer.Message{Body: "small"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Body, `["com.amazon.sqs.javamessaging.MessageS3Pointer",`) || m.Attributes["SQSLargePayloadSize"].StringValue != "5" {
		t.Errorf("legacy, always: %+v", m)
	}

	ten := map[string]backend.MessageAttributeValue{}
	for i := range 10 {
		ten[fmt.Sprint("a", i)] = backend.MessageAttributeValue{DataType: "String", StringValue: "v"}
	}
	if _, err := o.Message(context.Background(), producer.Message{Body: "x", Attributes: ten}); err == nil {
		t.Error("a message with 10 attributes took an 11th")
	}
	reserved := map[string]backend.MessageAttributeValue{"ExtendedPayloadSize": {DataType: "Number", StringValue: "1"}}
	if _, err := o.Message(context.Background(), producer.Message{Body: "x", Attributes: reserved}); err == nil {
		t.Error("a message with the reserved attribute was offloaded")
	}
}

// failingStore fails every Put of a body that starts with "fail".
type failingStore struct{ largepayload.MemStore }

func (s *failingStore) Put(ctx context.Context, bucket, key, body string) error {
	if strings.HasPrefix(body, "fail") {
		return errors.New("access denied")
	}
	return s.MemStore.Put(ctx, bucket, key, body)
}

// Offloader.Queue offloads large entries of any Send; an entry whose
// payload cannot be stored fails alone.
func TestOffloaderQueue(t *testing.T) {
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	url, _ := eng.CreateQueue(ctx, "reports", nil, nil)
	raw, _ := eng.Queue(url)
	store := &failingStore{}
	o, _ := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: bucket, Threshold: 1000})
	q := o.Queue(raw)

	big := strings.Repeat("b", 5000)
	res, err := producer.SendBatch(ctx, q, []producer.Message{{Body: "small"}, {Body: big}, {Body: "fail" + big}, {Body: "small 2"}})
	if err == nil || res[2].Err == nil || res[0].Err != nil || res[1].Err != nil || res[3].Err != nil {
		t.Fatalf("results %+v, err %v", res, err)
	}
	msgs, err := raw.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, MessageAttributeNames: []string{"All"}, SystemAttributeNames: []string{"All"}})
	if err != nil || len(msgs) != 3 {
		t.Fatalf("received %d, %v", len(msgs), err)
	}
	var bodies []string
	h := consumer.Chain(consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		bodies = append(bodies, msg.Body)
		return nil
	}), largepayload.Resolve(largepayload.ResolveConfig{Store: store}))
	for _, m := range msgs {
		if err := h.HandleMessage(ctx, &consumer.Message{Message: *m}); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(bodies) != fmt.Sprint([]string{"small", big, "small 2"}) {
		t.Errorf("handled %.40q", bodies)
	}
}

// A typed job of 5 MiB, through the in-process engine and S3 (gofakes3).
func TestRoundTripS3(t *testing.T) {
	ctx := context.Background()
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	url, _ := eng.CreateQueue(ctx, "reports", nil, nil)
	q, _ := eng.Queue(url)
	store := largepayload.S3Store{Client: fakeS3(t)}
	o, _ := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: bucket})

	type report struct{ Rows []string }
	rows := make([]string, 5<<10)
	for i := range rows {
		rows[i] = strings.Repeat(fmt.Sprint(i%10), 1020)
	}
	job, err := middleware.NewJob("", report{Rows: rows[:1]})
	if err != nil {
		t.Fatal(err)
	}
	job.Body = strings.Replace(job.Body, `["`+rows[0]+`"]`, `["`+strings.Join(rows, `","`)+`"]`, 1) // NewJob refuses 5 MiB
	job.Attributes = map[string]backend.MessageAttributeValue{"type": {DataType: "String", StringValue: "report"}}
	m, err := o.Message(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := producer.Send(ctx, q, m); err != nil {
		t.Fatal(err)
	}
	received, err := q.Receive(ctx, backend.ReceiveRequest{MessageAttributeNames: []string{"All"}})
	if err != nil || len(received) != 1 {
		t.Fatalf("%d %v", len(received), err)
	}
	var got report
	r := middleware.NewRouter()
	r.Handle("report", middleware.Job(func(ctx context.Context, rep report) error {
		got = rep
		return nil
	}))
	h := consumer.Chain(r, largepayload.Resolve(largepayload.ResolveConfig{Store: store, DeleteAfterSuccess: true, Buckets: []string{bucket}}))
	if err := h.HandleMessage(ctx, &consumer.Message{Message: *received[0]}); err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != len(rows) || got.Rows[5119] != rows[5119] {
		t.Errorf("got %d rows", len(got.Rows))
	}
	p, _ := largepayload.ParsePointer(received[0].Body)
	if _, err := store.Get(ctx, p.Bucket, p.Key); !errors.Is(err, largepayload.ErrNotFound) {
		t.Errorf("the payload is still there after success: %v", err)
	}
	// A second delivery finds it gone: a permanent failure.
	err = h.HandleMessage(ctx, &consumer.Message{Message: *received[0]})
	if !errors.Is(err, largepayload.ErrPayloadGone) || !consumer.IsPermanent(err) {
		t.Errorf("second delivery: %v", err)
	}
}
