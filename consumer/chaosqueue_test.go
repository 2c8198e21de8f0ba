package consumer_test

import (
	"context"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// chaosFaults are the faults a chaosQueue injects.
type chaosFaults struct {
	// reqErr is the chance that a request fails (ServiceUnavailable,
	// InternalFailure or RequestThrottled) without reaching the engine.
	reqErr float64
	// entryErr is the chance that a Delete or ChangeVisibility entry fails
	// (InternalFailure or ServiceUnavailable) without reaching the engine;
	// the other entries of the call go through.
	entryErr float64
	// respLost is the chance that a receive's answer is lost on its way
	// back (the engine took the messages; the caller gets InternalFailure).
	respLost float64
	// cancel is what a receive whose context ends does.
	cancel cancelMode
	// latency is the most a call takes on the way there and back (fake
	// time), drawn for each call.
	latency time.Duration
}

// maxFaultsInARow bounds the injected failures in a row of one operation
// (for requests) and of one receipt handle (for entries): a consumer that
// retries a few times always gets through.
const maxFaultsInARow = 2

// cancelMode is what a receive whose context ends does.
type cancelMode int

const (
	// cancelClean: the engine's own behaviour; a receive cancelled while it
	// waits takes nothing.
	cancelClean cancelMode = iota
	// cancelAsync: an HTTP client's. The call returns ctx's error at once,
	// but the request is already with the service: the engine's receive
	// goes on (context.WithoutCancel), and what it takes stays invisible,
	// its answer dropped.
	cancelAsync
	// cancelSync: the call ignores the cancellation until the engine
	// answers (at most the receive's wait time), then drops the answer
	// and returns ctx's error.
	cancelSync
)

func (m cancelMode) String() string {
	return [...]string{"clean", "async", "sync"}[m]
}

// plantedBugs imitate consumer bugs in the layer between the consumer and
// the engine, for TestLifecycleCatchesPlantedBugs.
type plantedBugs struct {
	// wrongAck: the first Delete call sent while another delivery is in
	// hand but not acked carries that delivery's handle in place of its
	// first entry's (the ack of the wrong message).
	wrongAck bool
	// dropRelease: once shutdown has begun, visibility changes to 0 are
	// answered with success but never sent (a stranded message).
	dropRelease bool
	// splitGroups: every received message gets a FIFO group of its own
	// (the consumer keys its groups wrongly, and runs a group's messages
	// at once).
	splitGroups bool
}

// chaosQueue wraps the engine's queue: it records in a ledger every
// delivery and every operation on a receipt handle, and injects the faults
// of a network and a service: failed requests and entries, latency,
// answers lost on the way back.
type chaosQueue struct {
	backend.Queue
	led    *ledger
	faults chaosFaults
	plant  plantedBugs

	mu         sync.Mutex
	rng        *rand.Rand
	reqFails   map[string]int // injected request failures in a row, by op
	entryFails map[string]int // injected entry failures in a row, by handle
	wrongAcked bool

	// bg are the engine receives that outlive their call (cancelAsync).
	bg sync.WaitGroup
}

func newChaosQueue(q backend.Queue, led *ledger, faults chaosFaults, seed uint64) *chaosQueue {
	return &chaosQueue{
		Queue: q, led: led, faults: faults,
		rng:      rand.New(rand.NewPCG(seed, 0x5eed)),
		reqFails: map[string]int{}, entryFails: map[string]int{},
	}
}

// chance reports true with probability p.
func (q *chaosQueue) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rng.Float64() < p
}

func (q *chaosQueue) latency() time.Duration {
	if q.faults.latency <= 0 {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return time.Duration(q.rng.Int64N(int64(q.faults.latency) + 1))
}

// failRequest decides whether a request of op fails.
func (q *chaosQueue) failRequest(op string) *backend.Error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.faults.reqErr <= 0 || q.reqFails[op] >= maxFaultsInARow || q.rng.Float64() >= q.faults.reqErr {
		q.reqFails[op] = 0
		return nil
	}
	q.reqFails[op]++
	code := []string{backend.CodeServiceUnavailable, backend.CodeInternalFailure, backend.CodeRequestThrottled}[q.rng.IntN(3)]
	return backend.NewError(code, "injected %s failure", op)
}

// failEntry decides whether the entry for handle fails.
func (q *chaosQueue) failEntry(handle string) *backend.Error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.faults.entryErr <= 0 || q.entryFails[handle] >= maxFaultsInARow || q.rng.Float64() >= q.faults.entryErr {
		q.entryFails[handle] = 0
		return nil
	}
	q.entryFails[handle]++
	code := []string{backend.CodeServiceUnavailable, backend.CodeInternalFailure}[q.rng.IntN(2)]
	return backend.NewError(code, "injected entry failure")
}

// Receive receives from the engine, records what it took, and hands it to
// the caller, unless the answer is lost.
func (q *chaosQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	if err := q.failRequest("receive"); err != nil {
		sleepCtx(ctx, q.latency())
		return nil, err
	}
	switch q.faults.cancel {
	case cancelAsync:
		return q.receiveAsync(ctx, req)
	case cancelSync:
		var mu sync.Mutex
		var cancelledAt time.Time
		stop := context.AfterFunc(ctx, func() {
			mu.Lock()
			cancelledAt = time.Now()
			mu.Unlock()
		})
		defer stop()
		msgs, err := q.Queue.Receive(context.WithoutCancel(ctx), req)
		q.led.taken(msgs)
		time.Sleep(q.latency())
		if ctx.Err() != nil {
			mu.Lock()
			at := cancelledAt
			mu.Unlock()
			if at.IsZero() {
				at = time.Now()
			}
			q.led.lost(msgs, at)
			return nil, ctx.Err()
		}
		return q.answer(msgs, err)
	default:
		msgs, err := q.Queue.Receive(ctx, req)
		q.led.taken(msgs)
		return q.answer(msgs, err)
	}
}

// receiveAsync is a receive over HTTP: the engine's receive goes on when
// ctx ends, and its answer is dropped.
func (q *chaosQueue) receiveAsync(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	type answer struct {
		msgs []*backend.Message
		err  error
	}
	ch := make(chan answer, 1)
	lat := q.latency()
	q.bg.Go(func() {
		msgs, err := q.Queue.Receive(context.WithoutCancel(ctx), req)
		q.led.taken(msgs)
		time.Sleep(lat) // the answer on its way back
		ch <- answer{msgs, err}
	})
	select {
	case a := <-ch:
		return q.answer(a.msgs, a.err)
	case <-ctx.Done():
		at := time.Now() // fake time stands still while this goroutine is runnable
		q.bg.Go(func() {
			a := <-ch
			q.led.lost(a.msgs, at)
		})
		return nil, ctx.Err()
	}
}

// answer hands the messages of a receive to the caller, or loses them.
func (q *chaosQueue) answer(msgs []*backend.Message, err error) ([]*backend.Message, error) {
	if err != nil {
		return nil, err
	}
	if len(msgs) > 0 && q.chance(q.faults.respLost) {
		q.led.lost(msgs, time.Time{})
		return nil, backend.NewError(backend.CodeInternalFailure, "injected: the answer was lost")
	}
	q.led.seen(msgs)
	if q.plant.splitGroups {
		for i, m := range msgs {
			cp := *m
			cp.Attributes = maps.Clone(m.Attributes)
			if g, ok := cp.Attributes["MessageGroupId"]; ok {
				cp.Attributes["MessageGroupId"] = g + "/" + m.MessageID
			}
			msgs[i] = &cp
		}
	}
	return msgs, nil
}

// Delete records the deletes, plants the wrong ack if asked, and injects
// failures of the request and of entries; failed entries do not reach the
// engine.
func (q *chaosQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	entries = append([]backend.DeleteEntry(nil), entries...)
	if q.plant.wrongAck {
		q.mu.Lock()
		done := q.wrongAcked
		q.mu.Unlock()
		if !done {
			if h := q.led.unackedHandle(handlesOf(entries)); h != "" {
				q.mu.Lock()
				q.wrongAcked = true
				q.mu.Unlock()
				entries[0].ReceiptHandle = h
			}
		}
	}
	op := q.led.sending(opDelete, handlesOf(entries), nil)
	return passThrough(q, op, "delete", entries, func(e backend.DeleteEntry) (string, string) { return e.ID, e.ReceiptHandle },
		func(pass []backend.DeleteEntry) ([]backend.EntryResult, error) {
			return q.Queue.Delete(context.WithoutCancel(ctx), pass)
		})
}

// passThrough makes a batch call of entries after the latency, failing
// the request or single entries by injection and sending the others on
// with call; it records the outcome with op.
func passThrough[E any](q *chaosQueue, op *opRec, what string, entries []E, idOf func(E) (id, handle string),
	call func(pass []E) ([]backend.EntryResult, error)) ([]backend.EntryResult, error) {
	time.Sleep(q.latency())
	if err := q.failRequest(what); err != nil {
		q.led.done(op, nil, err)
		return nil, err
	}
	res := make([]backend.EntryResult, len(entries))
	var pass []E
	var at []int
	for i, e := range entries {
		id, handle := idOf(e)
		res[i].ID = id
		if err := q.failEntry(handle); err != nil {
			res[i].Err = err
			continue
		}
		pass = append(pass, e)
		at = append(at, i)
	}
	if len(pass) > 0 {
		r, err := call(pass)
		if err != nil {
			q.led.done(op, nil, err)
			return nil, err
		}
		for k, i := range at {
			res[i].Err = r[k].Err
		}
	}
	q.led.done(op, res, nil)
	return res, nil
}

// ChangeVisibility is Delete's counterpart for visibility changes.
func (q *chaosQueue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	entries = append([]backend.VisibilityEntry(nil), entries...)
	if q.plant.dropRelease && q.led.stopping() {
		// The releases of this call are never sent, yet answered.
		var kept []backend.VisibilityEntry
		var keptAt []int
		for i, e := range entries {
			if e.VisibilityTimeout != 0 {
				kept = append(kept, e)
				keptAt = append(keptAt, i)
			}
		}
		res := make([]backend.EntryResult, len(entries))
		for i, e := range entries {
			res[i].ID = e.ID
		}
		if len(kept) > 0 {
			r, err := q.changeVisibility(ctx, kept)
			if err != nil {
				return nil, err
			}
			for k, i := range keptAt {
				res[i] = r[k]
			}
		}
		return res, nil
	}
	return q.changeVisibility(ctx, entries)
}

func (q *chaosQueue) changeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	handles := make([]string, len(entries))
	secs := make([]int, len(entries))
	for i, e := range entries {
		handles[i], secs[i] = e.ReceiptHandle, e.VisibilityTimeout
	}
	op := q.led.sending(opVisibility, handles, secs)
	return passThrough(q, op, "visibility", entries, func(e backend.VisibilityEntry) (string, string) { return e.ID, e.ReceiptHandle },
		func(pass []backend.VisibilityEntry) ([]backend.EntryResult, error) {
			return q.Queue.ChangeVisibility(context.WithoutCancel(ctx), pass)
		})
}

func handlesOf(entries []backend.DeleteEntry) []string {
	hs := make([]string, len(entries))
	for i, e := range entries {
		hs[i] = e.ReceiptHandle
	}
	return hs
}

// sleepCtx sleeps d (fake time) or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
