package lambda_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/lambda"
)

func TestNew(t *testing.T) {
	h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	b := consumer.BatchHandlerFunc(func(context.Context, []*consumer.Message) []error { return nil })
	for _, tc := range []struct {
		cfg  lambda.Config
		want string
	}{
		{lambda.Config{}, "exactly one of Handler and BatchHandler"},
		{lambda.Config{Handler: h, BatchHandler: b}, "exactly one of Handler and BatchHandler"},
		{lambda.Config{Handler: h, Concurrency: -1}, "negative Concurrency"},
		{lambda.Config{Handler: h, Reserve: -time.Second}, "negative Reserve"},
		{lambda.Config{Handler: h}, ""},
		{lambda.Config{BatchHandler: b}, ""},
	} {
		_, err := lambda.New(tc.cfg)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// The standard fixture in process: the outcomes, and what OnError gets.
func TestHandleEvent(t *testing.T) {
	_, ev := fixture(t, "standard.json")
	var log syncBuffer
	var errs errorsCollector
	f, err := newTestFunction(&log, errs.add)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.HandleEvent(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failures(resp), ids(ev, 2, 3, 5); !slices.Equal(got, want) {
		t.Errorf("batchItemFailures %v, want %v", got, want)
	}
	if n := strings.Count(log.String(), "handled "); n != len(ev.Records) {
		t.Errorf("%d messages handled, want %d", n, len(ev.Records))
	}
	ops := map[string]string{}
	for _, err := range errs.all() {
		var e *consumer.Error
		if !errors.As(err, &e) {
			t.Fatalf("OnError got %T %v", err, err)
		}
		if e.QueueURL != "https://sqs.us-east-2.amazonaws.com/123456789012/my-queue" {
			t.Errorf("QueueURL %q", e.QueueURL)
		}
		ops[e.MessageID] = e.Op
	}
	want := map[string]string{
		ev.Records[2].MessageId: consumer.OpHandle,    // fail
		ev.Records[3].MessageId: consumer.OpHandle,    // panic
		ev.Records[5].MessageId: consumer.OpPermanent, // refused by OnPermanent
	}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("OnError got %v, want %v", ops, want)
	}
	for _, err := range errs.all() {
		var pe *consumer.PanicError
		if errors.As(err, &pe) && pe.Value != "panicked on purpose" {
			t.Errorf("panic value %v", pe.Value)
		}
	}
}

// A permanent error without OnPermanent is reported and the message is
// done with.
func TestPermanentWithoutOnPermanent(t *testing.T) {
	_, ev := fixture(t, "standard.json")
	var errs errorsCollector
	f, err := lambda.New(lambda.Config{
		Handler: consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
			return consumer.Permanent(errors.New("malformed"))
		}),
		OnError: errs.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := f.HandleEvent(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures %v, want none", failures(resp))
	}
	if got := errs.all(); len(got) != len(ev.Records) || !consumer.IsPermanent(got[0]) {
		t.Errorf("OnError got %v", got)
	}
}

// Handlers run Concurrency at a time.
func TestConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events.SQSEvent
		for i := range 20 {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: "x",
				EventSourceARN: "arn:aws:sqs:us-east-2:123456789012:jobs"})
		}
		var running, most atomic.Int64
		f, _ := lambda.New(lambda.Config{
			Concurrency: 3,
			Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(time.Second) // the bubble's clock
				running.Add(-1)
				return nil
			}),
		})
		start := time.Now()
		resp, _ := f.HandleEvent(context.Background(), ev)
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("failures %v", failures(resp))
		}
		if most.Load() != 3 {
			t.Errorf("%d handlers ran at once, want 3", most.Load())
		}
		if took := time.Since(start); took != 7*time.Second {
			t.Errorf("20 one-second handlers, 3 at a time, took %v, want 7s", took)
		}
	})
}

// FIFO groups run concurrently, each in order, and stop at a failure; the
// messages not handled are reported failed.
func TestFIFO(t *testing.T) {
	_, ev := fixture(t, "fifo.json")
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var bodies []string
		var running, most atomic.Int64
		f, _ := lambda.New(lambda.Config{OnError: func(error) {}, Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Second)
			running.Add(-1)
			mu.Lock()
			bodies = append(bodies, msg.Body)
			mu.Unlock()
			if strings.HasPrefix(msg.Body, "fail") {
				return errors.New("failed")
			}
			return nil
		})})
		resp, _ := f.HandleEvent(context.Background(), ev)
		if got, want := failures(resp), ids(ev, 2, 4, 5, 6); !slices.Equal(got, want) {
			t.Errorf("batchItemFailures %v, want %v", got, want)
		}
		checkGroupOrder(t, bodies, map[string][]string{"a": {"a1", "fail a2"}, "b": {"b1", "b2"}, "c": {"fail c1"}})
		if most.Load() != 3 {
			t.Errorf("%d handlers ran at once, want one per group (3)", most.Load())
		}
	})
}

// The handlers' context ends Reserve before the function's deadline; the
// answer comes at the latest Reserve/2 before it, with the messages whose
// handlers still run, or never started, reported failed.
func TestDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events.SQSEvent
		for _, body := range []string{"quick", "honours ctx", "ignores ctx", "late"} {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: body, Body: body,
				EventSourceARN: "arn:aws:sqs:us-east-2:123456789012:jobs"})
		}
		release := make(chan struct{})
		var errs errorsCollector
		var started sync.Map
		f, _ := lambda.New(lambda.Config{
			Concurrency: 2, // "late" waits for a free slot
			Reserve:     2 * time.Second,
			OnError:     errs.add,
			Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
				started.Store(msg.Body, true)
				switch msg.Body {
				case "honours ctx":
					<-ctx.Done()
					return ctx.Err()
				case "ignores ctx":
					<-release
				}
				return nil
			}),
		})
		start := time.Now()
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(20*time.Second))
		defer cancel()
		resp, _ := f.HandleEvent(ctx, ev)
		if took := time.Since(start); took != 19*time.Second {
			t.Errorf("answered after %v, want 19s (the deadline less half the reserve)", took)
		}
		if got, want := failures(resp), []string{"honours ctx", "ignores ctx", "late"}; !slices.Equal(got, want) {
			t.Errorf("batchItemFailures %v, want %v", got, want)
		}
		if _, ok := started.Load("late"); ok {
			t.Error("a message started after the handlers' deadline")
		}
		close(release) // the handler that ignored its context returns nil, too late
		synctest.Wait()
		var late bool
		for _, err := range errs.all() {
			var e *consumer.Error
			if errors.As(err, &e) && e.MessageID == "ignores ctx" && strings.Contains(err.Error(), "after the invocation had answered") {
				late = true
			}
		}
		if !late {
			t.Errorf("OnError did not hear of the late handler: %v", errs.all())
		}
	})
}

// A short invocation keeps at most a quarter of its time in reserve.
func TestReserveShortInvocation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got time.Duration
		f, _ := lambda.New(lambda.Config{Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			d, _ := ctx.Deadline()
			got = time.Until(d)
			return nil
		})})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		f.HandleEvent(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1"}}})
		if got != 1500*time.Millisecond {
			t.Errorf("a 2 s invocation gives its handler %v, want 1.5s", got)
		}
	})
}

func TestBatchHandler(t *testing.T) {
	_, fifo := fixture(t, "fifo.json")
	_, std := fixture(t, "standard.json")
	fail := errors.New("failed")
	for _, tc := range []struct {
		name    string
		ev      events.SQSEvent
		results func(msgs []*consumer.Message) []error
		want    []string
		permOK  int // OnPermanent calls
	}{
		{"all ok", std, func([]*consumer.Message) []error { return nil }, ids(std), 0},
		{"some fail", std, func(msgs []*consumer.Message) []error {
			r := make([]error, len(msgs))
			r[1], r[4] = fail, consumer.Permanent(fail)
			return r
		}, ids(std, 1), 1},
		{"wrong length", std, func([]*consumer.Message) []error { return []error{nil} }, ids(std, 0, 1, 2, 3, 4, 5), 0},
		{"panic", std, func([]*consumer.Message) []error { panic("boom") }, ids(std, 0, 1, 2, 3, 4, 5), 0},
		// In a FIFO batch, what follows a group's failure fails, whatever
		// the handler says, and is not given to OnPermanent.
		{"fifo", fifo, func(msgs []*consumer.Message) []error {
			r := make([]error, len(msgs))
			r[2] = fail                     // a2
			r[4] = consumer.Permanent(fail) // a3: after a2, ignored
			r[6] = consumer.Permanent(fail) // c2: OnPermanent accepts it
			return r
		}, ids(fifo, 2, 4), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var perm atomic.Int64
			f, _ := lambda.New(lambda.Config{
				BatchHandler: consumer.BatchHandlerFunc(func(ctx context.Context, msgs []*consumer.Message) []error {
					if len(msgs) != len(tc.ev.Records) {
						t.Errorf("batch of %d", len(msgs))
					}
					return tc.results(msgs)
				}),
				OnPermanent: func(context.Context, *consumer.Message, error) error { perm.Add(1); return nil },
				OnError:     func(error) {},
			})
			resp, err := f.HandleEvent(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if tc.name == "all ok" {
				want = []string{}
			}
			if got := failures(resp); !slices.Equal(got, want) {
				t.Errorf("batchItemFailures %v, want %v", got, want)
			}
			if perm.Load() != int64(tc.permOK) {
				t.Errorf("OnPermanent called %d times, want %d", perm.Load(), tc.permOK)
			}
		})
	}
}

// The handler's context ends when it returns, as in a consumer.Server.
func TestContextEndsWithHandler(t *testing.T) {
	var kept context.Context
	f, _ := lambda.New(lambda.Config{Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		kept = ctx
		return nil
	})})
	f.HandleEvent(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1"}}})
	if kept.Err() == nil {
		t.Error("the handler's context is still live after it returned")
	}
}
