package consumer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// TestLeaseStates drives the per-job lease state (begin, end, lose, the
// heartbeat's extension) and the receipt's lease record directly.
func TestLeaseStates(t *testing.T) {
	s := &sub{srv: &Server{}, ioCtx: context.Background(), shards: make([]leaseShard, 2)}
	msgs := []*backend.Message{{MessageID: "a"}, {MessageID: "b"}, {MessageID: "c"}, {MessageID: "d"}}
	jobs := s.newReceipt(msgs, time.Now())
	sh := &s.shards[1]
	jobs[0].rc.shard = sh
	sh.mu.Lock()
	sh.list.push(jobs[0].rc)
	sh.mu.Unlock()
	cause := errors.New("lease gone")

	// a: lost before it starts: begin refuses it, end reports the loss.
	a := jobs[0]
	if !s.lose(a, cause) || s.lose(a, cause) {
		t.Fatal("lose: want true once, then false")
	}
	if s.begin(a, s.handlerContext(a)) {
		t.Error("begin accepted a lost job")
	}
	if lost, wait := s.end(a); lost != cause || wait != nil {
		t.Errorf("end(a) = %v, %v; want the cause and no wait", lost, wait)
	}

	// b: lost while it runs: its handler's context ends with the cause.
	b := jobs[1]
	hb := s.handlerContext(b)
	if !s.begin(b, hb) {
		t.Fatal("begin refused b")
	}
	s.lose(b, cause)
	if context.Cause(hb) != cause || hb.Err() == nil {
		t.Errorf("b's context: cause %v, err %v", context.Cause(hb), hb.Err())
	}
	if lost, _ := s.end(b); lost != cause {
		t.Errorf("end(b) lost %v", lost)
	}

	// c: ends while the heartbeat extends it: end hands back the beat's
	// channel, and a loss after the end does not count.
	c := jobs[2]
	done := make(chan struct{})
	s.beatDone.Store(&done)
	if _, ok := c.setBits(jobExtending, jobEnded|jobLost); !ok {
		t.Fatal("could not mark c extending")
	}
	if lost, wait := s.end(c); lost != nil || wait != (<-chan struct{})(done) {
		t.Errorf("end(c) = %v, %v; want no loss and the beat's channel", lost, wait)
	}
	if s.lose(c, cause) {
		t.Error("lose counted an ended job")
	}
	s.beatDone.Store(nil)

	// d: handlers are halted before it begins: it starts cancelled.
	s.cancelHandlers(ErrServerShutdown)
	d := jobs[3]
	hd := s.handlerContext(d)
	if !s.begin(d, hd) || !errors.Is(hd.Cause(), ErrServerShutdown) {
		t.Errorf("d: cause %v, want ErrServerShutdown", hd.Cause())
	}
	sh.mu.Lock()
	listed := sh.list.head == jobs[0].rc
	sh.mu.Unlock()
	if !listed {
		t.Error("the receipt left the lease list before its last job ended")
	}
	if cause := hd.finish(); !errors.Is(cause, ErrServerShutdown) {
		t.Errorf("finish: %v", cause)
	}
	s.end(d)

	// The last end took the receipt's lease record away.
	if sh.list.head != nil || sh.list.tail != nil {
		t.Error("the receipt is still in the lease list after its last job ended")
	}
	if got := s.srv.stats.leasesLost.Load(); got != 2 {
		t.Errorf("%d leases lost, want 2", got)
	}
}

// TestHandlerCtxCancelRacesDone: a cancellation and the making of the
// cancelable context (Done) at the same moment never lose the
// cancellation: without a lock, each looks at the other's work after its
// own.
func TestHandlerCtxCancelRacesDone(t *testing.T) {
	cause := errors.New("cause")
	for range 2000 {
		hc := newHandlerCtx(context.Background())
		start := make(chan struct{})
		got := make(chan (<-chan struct{}))
		go func() {
			<-start
			got <- hc.Done()
		}()
		go func() {
			<-start
			hc.cancel(cause)
		}()
		close(start)
		done := <-got
		<-done // blocks for ever if the cancellation was lost
		if context.Cause(hc) != cause {
			t.Fatalf("cause %v, want %v", context.Cause(hc), cause)
		}
	}
}
