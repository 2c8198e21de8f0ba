package producer_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/producer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newQueue(t testing.TB, name string, attrs backend.Attributes) (*native.Engine, backend.Queue) {
	t.Helper()
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	url, err := eng.CreateQueue(context.Background(), name, attrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := eng.Queue(url)
	if err != nil {
		t.Fatal(err)
	}
	return eng, q
}

// countingQueue records the size of every Send call.
type countingQueue struct {
	backend.Queue
	mu    sync.Mutex
	calls []int
	bytes []int
}

func (c *countingQueue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	total := 0
	for _, e := range entries {
		total += backend.MessageSize(e.Body, e.MessageAttributes)
	}
	c.mu.Lock()
	c.calls = append(c.calls, len(entries))
	c.bytes = append(c.bytes, total)
	c.mu.Unlock()
	return c.Queue.Send(ctx, entries)
}

// receiveAll drains the queue and returns the bodies.
func receiveAll(t testing.TB, q backend.Queue) []*backend.Message {
	t.Helper()
	var out []*backend.Message
	for {
		msgs, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0),
			SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		out = append(out, msgs...)
	}
}

func TestSendBatchSplits(t *testing.T) {
	big := strings.Repeat("x", 300*1024)
	for _, tc := range []struct {
		name      string
		bodies    []string
		wantCalls []int
	}{
		{"one", []string{"a"}, []int{1}},
		{"ten", repeat("a", 10), []int{10}},
		{"twenty-five", repeat("a", 25), []int{10, 10, 5}},
		{"by size: 3 of 300 KiB fit, the 4th does not", repeat(big, 7), []int{3, 3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, q := newQueue(t, "q", nil)
			cq := &countingQueue{Queue: q}
			msgs := make([]producer.Message, len(tc.bodies))
			for i, b := range tc.bodies {
				msgs[i] = producer.Message{Body: b}
			}
			res, err := producer.SendBatch(context.Background(), cq, msgs)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(msgs) {
				t.Fatalf("%d results", len(res))
			}
			for _, r := range res {
				if r.MessageID == "" || r.MD5OfBody == "" {
					t.Errorf("result %+v", r)
				}
			}
			if got := sorted(cq.calls); !equal(got, sorted(tc.wantCalls)) {
				t.Errorf("calls %v, want %v", cq.calls, tc.wantCalls)
			}
			for _, b := range cq.bytes {
				if b > backend.MaxMessageSize {
					t.Errorf("a batch of %d bytes", b)
				}
			}
			if got := len(receiveAll(t, q)); got != len(msgs) {
				t.Errorf("%d messages in the queue", got)
			}
		})
	}
}

func TestSendBatchResultsPerMessage(t *testing.T) {
	_, q := newQueue(t, "q", nil)
	msgs := []producer.Message{
		{Body: "ok"},
		{Body: "bad \x00 char"},
		{Body: strings.Repeat("y", backend.MaxMessageSize+1)},
		{Body: "ok too", Attributes: map[string]backend.MessageAttributeValue{"n": {DataType: "Number", StringValue: "12"}}},
	}
	res, err := producer.SendBatch(context.Background(), q, msgs)
	var be *producer.BatchError
	if !errors.As(err, &be) || be.Failed != 2 {
		t.Fatalf("err = %v", err)
	}
	if res[0].Err != nil || res[3].Err != nil {
		t.Errorf("good messages failed: %v %v", res[0].Err, res[3].Err)
	}
	if !errors.Is(res[1].Err, backend.ErrInvalidMessageContents) && !errors.Is(res[1].Err, backend.ErrInvalidParameterValue) {
		t.Errorf("bad character: %v", res[1].Err)
	}
	if !errors.Is(res[2].Err, backend.ErrInvalidParameterValue) {
		t.Errorf("too long: %v", res[2].Err)
	}
	got := receiveAll(t, q)
	if len(got) != 2 {
		t.Fatalf("%d messages in the queue", len(got))
	}
}

func TestSendFIFOAndOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q.fifo", backend.Attributes{"FifoQueue": "true"})
		for i := range 3 {
			res, err := producer.Send(context.Background(), q, producer.Message{
				Body: "m" + strconv.Itoa(i), GroupID: "g", DeduplicationID: "d" + strconv.Itoa(i),
				TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793",
			})
			if err != nil || res.SequenceNumber == "" {
				t.Fatalf("send: %v %+v", err, res)
			}
		}
		// A duplicate within the deduplication window is accepted and dropped.
		if _, err := producer.Send(context.Background(), q, producer.Message{Body: "again", GroupID: "g", DeduplicationID: "d0"}); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for {
			msgs := receiveAll(t, q)
			if len(msgs) == 0 {
				break
			}
			for _, m := range msgs {
				bodies = append(bodies, m.Body)
				if m.Attributes["MessageGroupId"] != "g" || m.Attributes["AWSTraceHeader"] == "" {
					t.Errorf("attributes %v", m.Attributes)
				}
				q.Delete(context.Background(), []backend.DeleteEntry{{ID: "0", ReceiptHandle: m.ReceiptHandle}})
			}
		}
		if strings.Join(bodies, ",") != "m0,m1,m2" {
			t.Errorf("received %v", bodies)
		}
	})
}

func TestSendDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		if _, err := producer.Send(context.Background(), q, producer.Message{Body: "later", Delay: 90 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if n := len(receiveAll(t, q)); n != 0 {
			t.Fatalf("delayed message received at once")
		}
		time.Sleep(91 * time.Second)
		if n := len(receiveAll(t, q)); n != 1 {
			t.Fatalf("%d messages after the delay", n)
		}
	})
}

func TestProducerMergesConcurrentSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		cq := &countingQueue{Queue: q}
		p := producer.New(cq, producer.Config{Linger: 5 * time.Millisecond})
		var wg sync.WaitGroup
		var failed atomic.Int64
		for i := range 95 {
			wg.Go(func() {
				if _, err := p.Send(context.Background(), producer.Message{Body: strconv.Itoa(i)}); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if failed.Load() != 0 {
			t.Fatalf("%d sends failed", failed.Load())
		}
		if !equal(sorted(cq.calls), []int{5, 10, 10, 10, 10, 10, 10, 10, 10, 10}) {
			t.Errorf("calls %v: want 9 full batches and one of 5", cq.calls)
		}
		if n := len(receiveAll(t, q)); n != 95 {
			t.Errorf("%d in the queue", n)
		}
		if _, err := p.Send(context.Background(), producer.Message{Body: "late"}); !errors.Is(err, producer.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestProducerLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		cq := &countingQueue{Queue: q}
		p := producer.New(cq, producer.Config{Linger: 20 * time.Millisecond})
		defer p.Close()
		t0 := time.Now()
		if _, err := p.Send(context.Background(), producer.Message{Body: "alone"}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d != 20*time.Millisecond {
			t.Errorf("a lone message waited %v, want the 20ms linger", d)
		}
		// Without linger a lone message goes at once.
		p2 := producer.New(cq, producer.Config{Linger: -1})
		defer p2.Close()
		t0 = time.Now()
		if _, err := p2.Send(context.Background(), producer.Message{Body: "now"}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d != 0 {
			t.Errorf("waited %v", d)
		}
	})
}

func TestProducerCloseFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		p := producer.New(q, producer.Config{Linger: time.Hour})
		results := make(chan error, 3)
		for i := range 3 {
			go func() {
				_, err := p.Send(context.Background(), producer.Message{Body: strconv.Itoa(i)})
				results <- err
			}()
		}
		synctest.Wait()
		t0 := time.Now()
		p.Close()
		if time.Since(t0) != 0 {
			t.Error("Close waited for the linger")
		}
		for range 3 {
			if err := <-results; err != nil {
				t.Error(err)
			}
		}
		if n := len(receiveAll(t, q)); n != 3 {
			t.Errorf("%d in the queue", n)
		}
	})
}

func TestProducerSendContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		p := producer.New(q, producer.Config{Linger: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := p.Send(ctx, producer.Message{Body: "x"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send = %v", err)
		}
		p.Close()
	})
}

func TestProducerEntryErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		p := producer.New(q, producer.Config{})
		defer p.Close()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i, body := range []string{"a", "", "b", strings.Repeat("z", backend.MaxMessageSize+1)} {
			wg.Go(func() { _, errs[i] = p.Send(context.Background(), producer.Message{Body: body}) })
		}
		wg.Wait()
		if errs[0] != nil || errs[2] != nil || errs[1] == nil || !errors.Is(errs[3], backend.ErrInvalidParameterValue) {
			t.Errorf("errors %v", errs)
		}
	})
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func sorted(s []int) []int {
	out := append([]int(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// gatedQueue blocks its first Send until the gate opens.
type gatedQueue struct {
	backend.Queue
	gate  chan struct{}
	first atomic.Bool
}

func (g *gatedQueue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	if !g.first.Swap(true) {
		<-g.gate
	}
	return g.Queue.Send(ctx, entries)
}

// TestProducerNeverStrandsAPartBatch: the linger passes while every call is
// busy; the call that ends then takes a full batch and leaves a part batch,
// which must still be sent after the linger.
func TestProducerNeverStrandsAPartBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		gq := &gatedQueue{Queue: q, gate: make(chan struct{})}
		p := producer.New(gq, producer.Config{MaxInFlight: 1, Linger: 10 * time.Millisecond})
		var wg sync.WaitGroup
		wg.Go(func() { p.Send(context.Background(), producer.Message{Body: "first"}) })
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		for i := range 15 {
			wg.Go(func() { p.Send(context.Background(), producer.Message{Body: strconv.Itoa(i)}) })
		}
		time.Sleep(time.Second)
		synctest.Wait()
		close(gq.gate)
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		if n := len(receiveAll(t, q)); n != 16 {
			t.Errorf("%d of 16 messages sent 50ms after the calls freed up", n)
		}
		wg.Wait()
		p.Close()
	})
}

type ctxKey struct{}

// TestProducerPrepareSeesEachSendsContext checks that Prepare runs with each
// Send's own context, so that messages merged into one batch call still
// carry what belonged to their own Send (the trace context, in practice),
// and that it may add attributes without touching the caller's map.
func TestProducerPrepareSeesEachSendsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		cq := &countingQueue{Queue: q}
		var urls sync.Map
		p := producer.New(cq, producer.Config{
			Linger: 5 * time.Millisecond,
			Prepare: func(ctx context.Context, queueURL string, m *producer.Message) {
				urls.Store(queueURL, true)
				attrs := make(map[string]backend.MessageAttributeValue, len(m.Attributes)+1)
				for k, v := range m.Attributes {
					attrs[k] = v
				}
				attrs["origin"] = backend.MessageAttributeValue{DataType: "String", StringValue: ctx.Value(ctxKey{}).(string)}
				m.Attributes = attrs
			},
		})
		shared := map[string]backend.MessageAttributeValue{"kind": {DataType: "String", StringValue: "job"}}
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				ctx := context.WithValue(context.Background(), ctxKey{}, "send-"+strconv.Itoa(i))
				if _, err := p.Send(ctx, producer.Message{Body: strconv.Itoa(i), Attributes: shared}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		p.Close()
		if len(cq.calls) != 1 {
			t.Errorf("calls %v: want one batch of 10", cq.calls)
		}
		if len(shared) != 1 {
			t.Errorf("the caller's map was changed: %v", shared)
		}
		if _, ok := urls.Load(q.URL()); !ok {
			t.Errorf("Prepare was not given the queue's URL %s", q.URL())
		}
		msgs := receiveAll(t, q)
		if len(msgs) != 10 {
			t.Fatalf("%d messages", len(msgs))
		}
		for _, m := range msgs {
			if got, want := m.MessageAttributes["origin"].StringValue, "send-"+m.Body; got != want {
				t.Errorf("message %s: origin %q, want %q", m.Body, got, want)
			}
			if m.MessageAttributes["kind"].StringValue != "job" {
				t.Errorf("message %s lost its own attribute", m.Body)
			}
		}
	})
}
