package consumer

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// worker runs the units of work on ready until it is closed. Once the sub
// is stopping, what it takes is given back rather than run.
func (s *sub) worker() {
	for unit := range s.ready {
		switch {
		case s.stopped.Load():
			s.giveBackUnit(unit)
		case s.BatchHandler != nil:
			s.runBatch(unit)
		default:
			s.runOne(unit[0])
		}
	}
}

// runOne runs j's handler and, on a FIFO queue, starts the next message of
// its group, or gives the group's waiting messages back when j failed.
func (s *sub) runOne(j *job) {
	ok := s.handle(j)
	if s.groups == nil {
		return
	}
	next, rel := s.groups.done(j, ok)
	s.giveBack(rel)
	if next == nil {
		return
	}
	if unit := []*job{next}; !s.send(unit) {
		s.giveBackUnit(unit)
	}
}

// handle runs j's handler and settles its outcome; it reports whether the
// message is done with (see settle).
func (s *sub) handle(j *job) bool {
	ctx, cancel := context.WithCancelCause(s.base)
	defer cancel(context.Canceled) // the handler has returned
	if !s.begin(j, cancel) {
		s.after(j, s.end(j)) // lost before it started: it comes back by itself
		return false
	}
	err := callHandler(ctx, s.Handler, &j.msg)
	e := s.end(j)
	ok := s.settle(j, err, e.lost, context.Cause(ctx), e.wait)
	s.after(j, e)
	return ok
}

func (s *sub) runBatch(jobs []*job) {
	ctx, cancel := context.WithCancelCause(s.base)
	defer cancel(context.Canceled)
	live := make([]*job, 0, len(jobs))
	var lostGroups map[string]bool // FIFO groups with a message lost before the start
	for _, j := range jobs {
		if lostGroups[j.msg.GroupID] {
			continue // would run ahead of its group's lost message
		}
		if s.begin(j, cancel) {
			live = append(live, j)
		} else if s.fifo {
			if lostGroups == nil {
				lostGroups = make(map[string]bool)
			}
			lostGroups[j.msg.GroupID] = true
		}
	}
	var results []error
	if len(live) > 0 {
		msgs := make([]*Message, len(live))
		for i, j := range live {
			msgs[i] = &j.msg
		}
		results = callBatchHandler(ctx, s.BatchHandler, msgs)
	}
	cause := context.Cause(ctx)
	var failedGroups map[string]bool
	if s.fifo {
		failedGroups = make(map[string]bool)
	}
	li := 0
	for _, j := range jobs {
		e := s.end(j)
		group := j.msg.GroupID
		switch {
		case li >= len(live) || live[li] != j:
			// Lost before it started: it comes back by itself.
			if failedGroups != nil {
				failedGroups[group] = true
			}
		case failedGroups != nil && failedGroups[group]:
			li++
			if e.lost == nil {
				s.srv.stats.released.Add(1)
				s.changeVisibility(j, 0, e.wait)
			}
		default:
			var err error
			if results != nil {
				err = results[li]
			}
			li++
			if !s.settle(j, err, e.lost, cause, e.wait) && failedGroups != nil {
				failedGroups[group] = true
			}
		}
		s.after(j, e)
	}
}

func callHandler(ctx context.Context, h Handler, msg *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return h.HandleMessage(ctx, msg)
}

func callBatchHandler(ctx context.Context, h BatchHandler, msgs []*Message) (results []error) {
	defer func() {
		if r := recover(); r != nil {
			err := &PanicError{Value: r, Stack: debug.Stack()}
			results = make([]error, len(msgs))
			for i := range results {
				results[i] = err
			}
		}
	}()
	results = h.HandleBatch(ctx, msgs)
	if results != nil && len(results) != len(msgs) {
		err := fmt.Errorf("consumer: batch handler returned %d results for %d messages", len(results), len(msgs))
		results = make([]error, len(msgs))
		for i := range results {
			results[i] = err
		}
	}
	return results
}

// settle acts on a handler's outcome and reports whether the message is
// done with (deleted or about to be), which lets a FIFO group go on.
func (s *sub) settle(j *job, err, lost, cause error, wait <-chan struct{}) bool {
	st := &s.srv.stats
	switch {
	case lost != nil:
		// The message may be someone else's by now: leave it alone.
		if err == nil {
			st.succeeded.Add(1)
		} else {
			st.failed.Add(1)
		}
		return false
	case err == nil:
		st.succeeded.Add(1)
		s.acks.add(ackItem{j: j})
		return true
	case IsPermanent(err):
		st.failed.Add(1)
		st.permanent.Add(1)
		if s.OnPermanent != nil {
			if herr := s.OnPermanent(s.base, &j.msg, err); herr != nil {
				s.report(OpPermanent, j.msg.MessageID, fmt.Errorf("OnPermanent: %w (handler: %w)", herr, err))
				s.changeVisibility(j, s.backoffSecs(j), wait)
				return false
			}
		} else {
			s.report(OpPermanent, j.msg.MessageID, err)
		}
		s.acks.add(ackItem{j: j})
		return true
	case errors.Is(cause, ErrServerShutdown):
		st.released.Add(1)
		s.changeVisibility(j, 0, wait)
		return false
	default:
		st.failed.Add(1)
		s.report(OpHandle, j.msg.MessageID, err)
		s.changeVisibility(j, s.backoffSecs(j), wait)
		return false
	}
}

// changeVisibility queues a visibility change for j, after any extension of
// j that is under way.
func (s *sub) changeVisibility(j *job, secs int, wait <-chan struct{}) {
	if wait != nil {
		<-wait
	}
	s.nacks.add(ackItem{j: j, secs: secs})
}

// backoffSecs is how long a failed message stays invisible: the backoff for
// its receive count, rounded up to seconds, never past 12 hours from its
// receive.
func (s *sub) backoffSecs(j *job) int {
	d := s.Backoff(max(1, j.msg.ReceiveCount))
	secs := int((d + time.Second - 1) / time.Second)
	// The change waits up to AckMaxDelay in its batch, and reaches the
	// queue a little later still: keep a second in hand.
	left := int((j.msg.ReceivedAt.Add(maxLease).Sub(s.srv.clock.Now()) - s.AckMaxDelay - leaseMargin) / time.Second)
	return max(0, min(secs, left, backend.MaxVisibilityTimeout))
}

// leaseMargin is kept between a visibility change and SQS's 12-hour limit,
// for the time the request takes to reach the queue.
const leaseMargin = time.Second

// giveBackUnit gives back a unit of work taken off ready, and on a FIFO
// queue the messages of its group that wait behind it.
func (s *sub) giveBackUnit(unit []*job) {
	s.giveBack(unit)
	if s.groups != nil {
		for _, j := range unit {
			_, rel := s.groups.done(j, false)
			s.giveBack(rel)
		}
	}
}

// giveBack releases held messages that will not run (visibility 0).
func (s *sub) giveBack(jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	for _, j := range jobs {
		e := s.end(j)
		if e.lost == nil {
			s.srv.stats.released.Add(1)
			s.changeVisibility(j, 0, e.wait)
		}
		s.after(j, e)
	}
}
