package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newEngine returns an in-process engine on the real clock (inside a
// synctest bubble, the bubble's fake time), closed when the test ends.
func newEngine(t testing.TB) *native.Engine {
	t.Helper()
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func newQueue(t testing.TB, eng *native.Engine, name string, attrs backend.Attributes) backend.Queue {
	t.Helper()
	if attrs == nil {
		attrs = backend.Attributes{}
	}
	url, err := eng.CreateQueue(context.Background(), name, attrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := eng.Queue(url)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// sendN sends n messages with bodies "0".."n-1" (group ids from group, if
// not nil) and returns their message ids by body.
func sendN(t testing.TB, q backend.Queue, n int, group func(i int) string) map[string]string {
	t.Helper()
	ids := make(map[string]string, n)
	for i := 0; i < n; i += backend.MaxBatchEntries {
		var entries []backend.SendEntry
		for k := i; k < min(n, i+backend.MaxBatchEntries); k++ {
			e := backend.SendEntry{ID: strconv.Itoa(k - i), Body: strconv.Itoa(k)}
			if group != nil {
				e.MessageGroupID = group(k)
				e.MessageDeduplicationID = strconv.Itoa(k)
			}
			entries = append(entries, e)
		}
		res, err := q.Send(context.Background(), entries)
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range res {
			if r.Err != nil {
				t.Fatalf("send %s: %v", entries[k].Body, r.Err)
			}
			ids[entries[k].Body] = r.MessageID
		}
	}
	return ids
}

// counts returns the queue's visible, in-flight and delayed message counts.
func counts(t testing.TB, eng *native.Engine, q backend.Queue) (visible, inflight, delayed int) {
	t.Helper()
	a, err := eng.GetAttributes(context.Background(), q.URL(), []string{"All"})
	if err != nil {
		t.Fatal(err)
	}
	n := func(k string) int {
		v, err := strconv.Atoi(a[k])
		if err != nil {
			t.Fatalf("attribute %s = %q", k, a[k])
		}
		return v
	}
	return n("ApproximateNumberOfMessages"), n("ApproximateNumberOfMessagesNotVisible"), n("ApproximateNumberOfMessagesDelayed")
}

// running is a server running in a goroutine of the test.
type running struct {
	srv  *consumer.Server
	done chan error
}

func start(t testing.TB, cfg consumer.Config) *running {
	t.Helper()
	return startWith(t, cfg, nil)
}

// startWith is start with prep, if not nil, called on the server before
// Run.
func startWith(t testing.TB, cfg consumer.Config, prep func(*consumer.Server)) *running {
	t.Helper()
	if cfg.OnError == nil {
		cfg.OnError = func(error) {}
	}
	srv, err := consumer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(srv)
	}
	r := &running{srv: srv, done: make(chan error, 1)}
	go func() { r.done <- srv.Run(context.Background()) }()
	return r
}

// stop shuts the server down and returns Shutdown's result, checking that
// Run returned ErrServerClosed.
func (r *running) stop(t testing.TB, ctx context.Context) error {
	t.Helper()
	err := r.srv.Shutdown(ctx)
	if runErr := <-r.done; !errors.Is(runErr, consumer.ErrServerClosed) {
		t.Errorf("Run returned %v, want ErrServerClosed", runErr)
	}
	return err
}

// faultQueue wraps a queue, counting calls and letting a test inject
// failures.
type faultQueue struct {
	backend.Queue

	receives, deletes, changes atomic.Int64

	mu            sync.Mutex
	receiveHook   func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error)
	deleteHook    func(entries []backend.DeleteEntry) ([]backend.EntryResult, error)
	changeHook    func(entries []backend.VisibilityEntry) ([]backend.EntryResult, error)
	deleted       map[string]int // successful deletes by receipt handle
	deleteEntries []int          // entries per Delete call
	changeLog     []backend.VisibilityEntry
	attemptIDs    []string
}

func (f *faultQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	f.receives.Add(1)
	f.mu.Lock()
	hook := f.receiveHook
	f.attemptIDs = append(f.attemptIDs, req.ReceiveRequestAttemptID)
	f.mu.Unlock()
	if hook != nil {
		return hook(ctx, req)
	}
	return f.Queue.Receive(ctx, req)
}

func (f *faultQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	f.deletes.Add(1)
	f.mu.Lock()
	hook := f.deleteHook
	f.deleteEntries = append(f.deleteEntries, len(entries))
	f.mu.Unlock()
	var res []backend.EntryResult
	var err error
	if hook != nil {
		res, err = hook(entries)
	} else {
		res, err = f.Queue.Delete(ctx, entries)
	}
	if err == nil {
		f.mu.Lock()
		if f.deleted == nil {
			f.deleted = map[string]int{}
		}
		for i, r := range res {
			if r.Err == nil {
				f.deleted[entries[i].ReceiptHandle]++
			}
		}
		f.mu.Unlock()
	}
	return res, err
}

func (f *faultQueue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	f.changes.Add(1)
	f.mu.Lock()
	hook := f.changeHook
	f.changeLog = append(f.changeLog, entries...)
	f.mu.Unlock()
	if hook != nil {
		return hook(entries)
	}
	return f.Queue.ChangeVisibility(ctx, entries)
}

// recorder is a handler that records what it handled.
type recorder struct {
	mu      sync.Mutex
	handled map[string]int // by body
	order   []string
	msgs    []*consumer.Message
	fn      func(ctx context.Context, msg *consumer.Message) error
}

func (r *recorder) HandleMessage(ctx context.Context, msg *consumer.Message) error {
	r.mu.Lock()
	if r.handled == nil {
		r.handled = map[string]int{}
	}
	r.handled[msg.Body]++
	r.order = append(r.order, msg.Body)
	cp := *msg // the server reuses msg once the handler returns
	r.msgs = append(r.msgs, &cp)
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		return fn(ctx, msg)
	}
	return nil
}

func (r *recorder) count(body string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handled[body]
}

func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.handled)
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.order)
}

// errorLog collects the errors a server reports.
type errorLog struct {
	mu   sync.Mutex
	errs []*consumer.Error
}

func (l *errorLog) add(err error) {
	var e *consumer.Error
	if !errors.As(err, &e) {
		panic(fmt.Sprintf("OnError got %T, not *consumer.Error", err))
	}
	l.mu.Lock()
	l.errs = append(l.errs, e)
	l.mu.Unlock()
}

func (l *errorLog) ops(op string) []*consumer.Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*consumer.Error
	for _, e := range l.errs {
		if e.Op == op {
			out = append(out, e)
		}
	}
	return out
}

// advanceUntil lets the bubble's fake time run, 10 ms at a time, until
// cond holds; it fails the test after an hour of fake time.
func advanceUntil(t testing.TB, cond func() bool) {
	t.Helper()
	for range 360_000 {
		synctest.Wait()
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met after an hour of fake time")
}
