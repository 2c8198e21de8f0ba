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

// TestProducerSequentialSendsGoAtOnce: a program that sends one message at
// a time finds a call free every time, so nothing waits for company.
func TestProducerSequentialSendsGoAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		cq := &countingQueue{Queue: q}
		p := producer.New(cq, producer.Config{})
		defer p.Close()
		t0 := time.Now()
		for i := range 100 {
			if _, err := p.Send(context.Background(), producer.Message{Body: strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(t0); d != 0 {
			t.Errorf("100 sequential sends took %v of fake time, want none: a lone message waited for company", d)
		}
		if !equal(cq.calls, repeatInt(1, 100)) {
			t.Errorf("calls %v, want 100 calls of one message", cq.calls)
		}
		if n := len(receiveAll(t, q)); n != 100 {
			t.Errorf("%d in the queue", n)
		}
	})
}

// TestProducerBatchesWhileCallsInFlight: while every call slot is busy,
// Sends wait and the call that ends next takes full batches of them at
// once; nothing waits for a timer.
func TestProducerBatchesWhileCallsInFlight(t *testing.T) {
	for _, slots := range []int{1, 3} {
		t.Run("MaxInFlight="+strconv.Itoa(slots), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, q := newQueue(t, "q", nil)
				gq := &gatedQueue{Queue: q, gate: make(chan struct{}), gated: slots}
				cq := &countingQueue{Queue: gq}
				p := producer.New(cq, producer.Config{MaxInFlight: slots})
				t0 := time.Now()
				var wg sync.WaitGroup
				var failed atomic.Int64
				send := func(body string) {
					wg.Go(func() {
						if _, err := p.Send(context.Background(), producer.Message{Body: body}); err != nil {
							failed.Add(1)
						}
					})
				}
				// Each of the first sends finds a free slot and goes alone;
				// its call blocks at the gate.
				for i := range slots {
					send("first-" + strconv.Itoa(i))
					synctest.Wait()
				}
				if !equal(cq.calls, repeatInt(1, slots)) {
					t.Errorf("calls %v before the gate opened, want %d of one message", cq.calls, slots)
				}
				for i := range 95 {
					send(strconv.Itoa(i))
				}
				synctest.Wait()
				if len(cq.calls) != slots {
					t.Errorf("calls %v: a call started while every slot was busy", cq.calls)
				}
				close(gq.gate)
				wg.Wait()
				if d := time.Since(t0); d != 0 {
					t.Errorf("took %v of fake time, want none", d)
				}
				if err := p.Close(); err != nil {
					t.Fatal(err)
				}
				if failed.Load() != 0 {
					t.Fatalf("%d sends failed", failed.Load())
				}
				want := append(repeatInt(1, slots), 5, 10, 10, 10, 10, 10, 10, 10, 10, 10)
				if got := sorted(cq.calls); !equal(got, sorted(want)) {
					t.Errorf("calls %v: want %d of one, then 9 full batches and one of 5", cq.calls, slots)
				}
				if n := len(receiveAll(t, q)); n != 95+slots {
					t.Errorf("%d in the queue", n)
				}
				if _, err := p.Send(context.Background(), producer.Message{Body: "late"}); !errors.Is(err, producer.ErrClosed) {
					t.Errorf("Send after Close: %v", err)
				}
				if err := p.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
			})
		})
	}
}

// TestProducerCloseFlushes: Close sends what waits for a busy call, and
// waits for it.
func TestProducerCloseFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		gq := &gatedQueue{Queue: q, gate: make(chan struct{}), gated: 1}
		p := producer.New(gq, producer.Config{MaxInFlight: 1})
		results := make(chan error, 4)
		for i := range 4 {
			go func() {
				_, err := p.Send(context.Background(), producer.Message{Body: strconv.Itoa(i)})
				results <- err
			}()
		}
		synctest.Wait()
		closed := make(chan struct{})
		go func() { p.Close(); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a call was in flight")
		default:
		}
		close(gq.gate)
		<-closed
		for range 4 {
			if err := <-results; err != nil {
				t.Error(err)
			}
		}
		if n := len(receiveAll(t, q)); n != 4 {
			t.Errorf("%d in the queue", n)
		}
	})
}

func TestProducerSendContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		gq := &gatedQueue{Queue: q, gate: make(chan struct{}), gated: 1}
		p := producer.New(gq, producer.Config{MaxInFlight: 1})
		first := make(chan error, 1)
		go func() {
			_, err := p.Send(context.Background(), producer.Message{Body: "first"})
			first <- err
		}()
		synctest.Wait()
		// The only call is busy: this Send waits, and its context ends.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := p.Send(ctx, producer.Message{Body: "x"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send = %v", err)
		}
		close(gq.gate)
		if err := <-first; err != nil {
			t.Error(err)
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

func repeatInt(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
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

// gatedQueue blocks its first gated Send calls (one if gated is 0) until
// the gate opens.
type gatedQueue struct {
	backend.Queue
	gate  chan struct{}
	gated int
	calls atomic.Int64
}

func (g *gatedQueue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	if n := g.calls.Add(1); n <= int64(max(g.gated, 1)) {
		<-g.gate
	}
	return g.Queue.Send(ctx, entries)
}

// TestProducerNeverStrandsAPartBatch: the call that ends takes a full
// batch and leaves a part batch, which the next call to end takes at once.
func TestProducerNeverStrandsAPartBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, q := newQueue(t, "q", nil)
		gq := &gatedQueue{Queue: q, gate: make(chan struct{})}
		p := producer.New(gq, producer.Config{MaxInFlight: 1})
		t0 := time.Now()
		var wg sync.WaitGroup
		wg.Go(func() { p.Send(context.Background(), producer.Message{Body: "first"}) })
		synctest.Wait()
		for i := range 15 {
			wg.Go(func() { p.Send(context.Background(), producer.Message{Body: strconv.Itoa(i)}) })
		}
		synctest.Wait()
		close(gq.gate)
		wg.Wait()
		if d := time.Since(t0); d != 0 {
			t.Errorf("the sends took %v of fake time, want none", d)
		}
		if n := len(receiveAll(t, q)); n != 16 {
			t.Errorf("%d of 16 messages sent", n)
		}
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
		// One call at a time, the first held at the gate: the other nine
		// Sends wait together and go in one call.
		gq := &gatedQueue{Queue: q, gate: make(chan struct{})}
		cq := &countingQueue{Queue: gq}
		var urls sync.Map
		p := producer.New(cq, producer.Config{
			MaxInFlight: 1,
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
			if i == 0 {
				synctest.Wait() // the first call is at the gate
			}
		}
		synctest.Wait()
		close(gq.gate)
		wg.Wait()
		p.Close()
		if !equal(cq.calls, []int{1, 9}) {
			t.Errorf("calls %v: want one of 1, then one batch of 9", cq.calls)
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
