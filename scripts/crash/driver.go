package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Tunables of the load. They keep the backlog small, so that the final
// drain is short, and the FIFO groups busy.
const (
	maxStdBacklog  = 400 // acknowledged standard messages with no delete issued
	maxFIFOBacklog = 12  // messages per FIFO group at or after its first undeleted one
	requestTimeout = 15 * time.Second
	extendMin      = 3 // seconds a visibility extension sets, at least
	extendMax      = 5 // and at most
)

// receiveAttrs are the system attributes every receive asks for.
var receiveAttrs = []string{"ApproximateReceiveCount", "SequenceNumber", "MessageGroupId"}

// fifoProducer is the producing side of one FIFO group. It persists across
// cycles: a message whose send was not acknowledged is sent again, with
// the same deduplication id, before the group moves on.
type fifoProducer struct {
	mu      sync.Mutex
	pending *msgState
}

// driver runs the producers and consumers of each cycle.
type driver struct {
	ck      *checker
	seed    uint64
	prods   int
	cons    int
	groups  []*fifoProducer
	unexpMu sync.Mutex
	unexp   []string // request errors while the server was alive
	nUnexp  int
	// nUnknown counts requests cut off by the kill: their outcome is unknown.
	nUnknown atomic.Int64
}

func newDriver(ck *checker, seed uint64, producers, consumers, groups int) *driver {
	d := &driver{ck: ck, seed: seed, prods: producers, cons: consumers}
	d.groups = make([]*fifoProducer, groups)
	for i := range d.groups {
		d.groups[i] = &fifoProducer{}
	}
	return d
}

// cycleEnv is one cycle's workers and the queues they use.
type cycleEnv struct {
	d      *driver
	std    backend.Queue
	fifo   backend.Queue
	killed atomic.Bool // set just before the server is killed
	wg     sync.WaitGroup
}

// start starts the cycle's producers and consumers; they run until ctx
// ends. A request that fails after killed is set has an unknown outcome
// and ends its worker; one that fails before is reported as unexpected.
func (d *driver) start(ctx context.Context, cycle int, std, fifo backend.Queue) *cycleEnv {
	e := &cycleEnv{d: d, std: std, fifo: fifo}
	for i := range d.prods {
		rng := rand.New(rand.NewPCG(d.seed, uint64(cycle)<<16|uint64(i)))
		e.wg.Go(func() { e.produce(ctx, rng) })
	}
	for i := range d.cons {
		rng := rand.New(rand.NewPCG(d.seed, uint64(cycle)<<16|uint64(0x100+i)))
		e.wg.Go(func() { e.consume(ctx, rng) })
	}
	return e
}

// wait waits for every worker to return.
func (e *cycleEnv) wait() { e.wg.Wait() }

// failed handles a request error: it reports whether the worker should
// stop (always, once the server is being killed or ctx ended).
func (e *cycleEnv) failed(ctx context.Context, what string, err error) bool {
	if e.killed.Load() || ctx.Err() != nil {
		e.d.nUnknown.Add(1)
		return true
	}
	d := e.d
	d.unexpMu.Lock()
	d.nUnexp++
	if len(d.unexp) < 20 {
		d.unexp = append(d.unexp, fmt.Sprintf("%s: %v", what, err))
	}
	d.unexpMu.Unlock()
	// Back off a little rather than spin on a server that misbehaves.
	select {
	case <-ctx.Done():
		return true
	case <-time.After(20 * time.Millisecond):
	}
	return false
}

func (e *cycleEnv) produce(ctx context.Context, rng *rand.Rand) {
	ck := e.d.ck
	for ctx.Err() == nil && !e.killed.Load() {
		var stop bool
		if rng.IntN(10) < 4 {
			stop = e.produceFIFO(ctx, rng)
		} else {
			if ck.backlog(false, 0) >= maxStdBacklog {
				if !pause(ctx, 5*time.Millisecond) {
					return
				}
				continue
			}
			stop = e.produceStd(ctx, rng)
		}
		if stop {
			return
		}
	}
}

// produceStd sends 1-10 new bodies in one batch. Nothing is ever resent:
// a body whose send failed is simply not counted as acknowledged.
func (e *cycleEnv) produceStd(ctx context.Context, rng *rand.Rand) bool {
	ck := e.d.ck
	n := 1 + rng.IntN(backend.MaxBatchEntries)
	sts := make([]*msgState, n)
	entries := make([]backend.SendEntry, n)
	for i := range n {
		sts[i] = ck.newStd()
		entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: sts[i].body}
	}
	ck.sendIssued(sts)
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	res, err := e.std.Send(rctx, entries)
	cancel()
	if err != nil {
		for _, st := range sts {
			ck.sendResult(st, nil)
		}
		return e.failed(ctx, "send (standard)", err)
	}
	for i := range sts {
		ck.sendResult(sts[i], &res[i])
	}
	return false
}

// produceFIFO sends one message of a group that no other producer holds:
// the group's unacknowledged message again, or its next one.
func (e *cycleEnv) produceFIFO(ctx context.Context, rng *rand.Rand) bool {
	ck := e.d.ck
	groups := e.d.groups
	off := rng.IntN(len(groups))
	for i := range groups {
		g := (off + i) % len(groups)
		p := groups[g]
		if !p.mu.TryLock() {
			continue
		}
		if p.pending == nil && ck.backlog(true, g) >= maxFIFOBacklog {
			p.mu.Unlock()
			continue
		}
		if p.pending == nil {
			p.pending = ck.newFIFO(g)
		}
		st := p.pending
		ck.sendIssued([]*msgState{st})
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := e.fifo.Send(rctx, []backend.SendEntry{{
			ID: "0", Body: st.body, MessageGroupID: strconv.Itoa(g), MessageDeduplicationID: st.body,
		}})
		cancel()
		if err != nil {
			ck.sendResult(st, nil)
			p.mu.Unlock()
			return e.failed(ctx, "send (FIFO)", err)
		}
		ck.sendResult(st, &res[0])
		if res[0].Err == nil {
			p.pending = nil
		} else {
			e.failed(ctx, "send (FIFO) entry", res[0].Err)
		}
		p.mu.Unlock()
		return false
	}
	// Every group is busy or full: let the consumers catch up.
	return !pause(ctx, 5*time.Millisecond)
}

// pause waits for d or ctx; it reports whether ctx is still live.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type action int

const (
	actDelete action = iota
	actRelease
	actExtend
	actExtendDelete
	actLeave
)

// pickAction chooses what a consumer does with a message it received.
func pickAction(rng *rand.Rand) action {
	switch r := rng.IntN(100); {
	case r < 60:
		return actDelete
	case r < 70:
		return actRelease
	case r < 78:
		return actExtend
	case r < 85:
		return actExtendDelete
	default:
		return actLeave
	}
}

func (e *cycleEnv) consume(ctx context.Context, rng *rand.Rand) {
	for ctx.Err() == nil && !e.killed.Load() {
		fifo := rng.IntN(2) == 0
		q := e.std
		if fifo {
			q = e.fifo
		}
		if e.consumeOnce(ctx, rng, q, fifo) {
			return
		}
	}
}

// consumeOnce receives once and acts on what it got. It reports whether
// the worker should stop.
func (e *cycleEnv) consumeOnce(ctx context.Context, rng *rand.Rand, q backend.Queue, fifo bool) bool {
	ck := e.d.ck
	wait := rng.IntN(2)
	req := backend.ReceiveRequest{
		MaxMessages:          1 + rng.IntN(backend.MaxBatchEntries),
		WaitTimeSeconds:      &wait,
		SystemAttributeNames: receiveAttrs,
	}
	start := ck.now()
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	msgs, err := q.Receive(rctx, req)
	cancel()
	returned := ck.now()
	if err != nil {
		return e.failed(ctx, "receive ("+queueKind(fifo)+")", err)
	}
	ck.received(fifo, start, returned, msgs)

	var dels, vis []*backend.Message
	var visTimeouts []int
	var delAfterVis []*backend.Message
	for _, m := range msgs {
		switch pickAction(rng) {
		case actDelete:
			dels = append(dels, m)
		case actRelease:
			vis, visTimeouts = append(vis, m), append(visTimeouts, 0)
		case actExtend:
			vis, visTimeouts = append(vis, m), append(visTimeouts, extendMin+rng.IntN(extendMax-extendMin+1))
		case actExtendDelete:
			vis, visTimeouts = append(vis, m), append(visTimeouts, extendMin+rng.IntN(extendMax-extendMin+1))
			delAfterVis = append(delAfterVis, m)
		case actLeave:
		}
	}
	if len(dels) > 0 && e.delete(ctx, q, dels) {
		return true
	}
	if len(vis) > 0 {
		entries := make([]backend.VisibilityEntry, len(vis))
		for i, m := range vis {
			entries[i] = backend.VisibilityEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: visTimeouts[i]}
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		_, err := q.ChangeVisibility(rctx, entries)
		cancel()
		// Entry errors (the message's visibility already ended) are
		// expected and change nothing the checks rely on.
		if err != nil {
			return e.failed(ctx, "change visibility ("+queueKind(fifo)+")", err)
		}
	}
	if len(delAfterVis) > 0 && e.delete(ctx, q, delAfterVis) {
		return true
	}
	return false
}

// delete deletes msgs in one batch, telling the checker before and after.
func (e *cycleEnv) delete(ctx context.Context, q backend.Queue, msgs []*backend.Message) bool {
	ck := e.d.ck
	sts := make([]*msgState, 0, len(msgs))
	entries := make([]backend.DeleteEntry, 0, len(msgs))
	ck.mu.Lock()
	for _, m := range msgs {
		if st := ck.msgs[m.Body]; st != nil {
			sts = append(sts, st)
			entries = append(entries, backend.DeleteEntry{ID: strconv.Itoa(len(entries)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	ck.mu.Unlock()
	if len(entries) == 0 {
		return false
	}
	ck.deleteIssued(sts)
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	res, err := q.Delete(rctx, entries)
	cancel()
	returned := ck.now()
	if err != nil {
		for _, st := range sts {
			ck.deleteResult(st, returned, nil)
		}
		return e.failed(ctx, "delete", err)
	}
	for i := range sts {
		ck.deleteResult(sts[i], returned, &res[i])
	}
	return false
}

// unexpected returns the count of unexpected request errors and the first
// few of them.
func (d *driver) unexpected() (int, []string) {
	d.unexpMu.Lock()
	defer d.unexpMu.Unlock()
	return d.nUnexp, append([]string(nil), d.unexp...)
}
