package consumer_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
)

// TestLifecycleRandom runs random scenarios of a consumer's whole life, each
// from a seed, on the in-process engine behind a chaosQueue, in a synctest
// bubble (fake time), and checks the invariants of the ledger after each.
//
//	go test ./consumer -run TestLifecycleRandom -lifecycle.seeds=1000
//	go test ./consumer -run TestLifecycleRandom -lifecycle.seed=17 -v
//
// A scenario's plan (queue, options, faults, outcomes, when the test sends,
// steals and shuts down) follows from its seed; the interleaving of the
// goroutines does not, so a rerun may take another path.
var (
	lifecycleSeeds = flag.Int("lifecycle.seeds", 0, "how many scenarios TestLifecycleRandom runs (default $POSTBOX_LIFECYCLE_SEEDS, or 200)")
	lifecycleSeed  = flag.Int("lifecycle.seed", -1, "run only this scenario of TestLifecycleRandom")
	lifecycleLog   = flag.Bool("lifecycle.log", false, "log what the consumer reports to OnError in TestLifecycleRandom")
)

const defaultLifecycleSeeds = 200

func lifecycleSeedList(t *testing.T) []int {
	if *lifecycleSeed >= 0 {
		return []int{*lifecycleSeed}
	}
	n := *lifecycleSeeds
	if n == 0 {
		if v := os.Getenv("POSTBOX_LIFECYCLE_SEEDS"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				t.Fatalf("POSTBOX_LIFECYCLE_SEEDS=%q: %v", v, err)
			}
		}
	}
	if n <= 0 {
		n = defaultLifecycleSeeds
	}
	seeds := make([]int, n)
	for i := range seeds {
		seeds[i] = i + 1
	}
	return seeds
}

func TestLifecycleRandom(t *testing.T) {
	for _, seed := range lifecycleSeedList(t) {
		t.Run("seed="+strconv.Itoa(seed), func(t *testing.T) {
			sc := newScenario(uint64(seed))
			// Reported from inside the bubble: if the consumer left a
			// goroutine blocked, synctest panics once the function returns.
			synctest.Test(t, func(t *testing.T) {
				vs, summary := runScenario(t, sc)
				t.Log(summary)
				if len(vs) > 0 {
					var b strings.Builder
					for _, v := range vs {
						fmt.Fprintf(&b, "\n  - %v", v)
					}
					t.Errorf("seed %d: %d violations%s\nscenario: %v\nrerun: go test ./consumer -run 'TestLifecycleRandom$' -lifecycle.seed=%d -v",
						seed, len(vs), b.String(), sc, seed)
				}
			})
		})
	}
}

// outcome is what a handler does with one delivery.
type outcome int

const (
	outOK        outcome = iota
	outFail              // returns an error
	outPermanent         // returns a Permanent error
	outPanic             // panics
	outSlow              // takes a while (fake time), then succeeds or fails; ends early with its context
	outBlock             // blocks until its context ends
)

// scenario is the plan of one run.
type scenario struct {
	seed uint64

	fifo            bool
	groups          int
	n, initial      int // messages: in all, and sent before Run
	batch           bool
	concurrency     int
	maxMessages     int
	prefetch        int
	vis             time.Duration
	heartbeat       time.Duration
	wait            time.Duration
	ackDelay        time.Duration
	backoff         time.Duration // < 0: the default
	onPermanent     int           // 0: nil; 1: returns nil; 2: fails now and then
	shutdownTimeout time.Duration // 0: the default
	stopAfter       time.Duration // when the shutdown begins
	viaShutdown     bool          // Shutdown, or the end of Run's context
	shutdownCtx     time.Duration // Shutdown's context's timeout; < 0: none
	faults          chaosFaults
	steal           float64 // chance of a theft at each step of the driver

	// chances of the outcomes of a first delivery (the rest succeed)
	pFail, pPerm, pPanic, pSlow, pBlock float64
	slowMax                             time.Duration
	plant                               plantedBugs
}

func newScenario(seed uint64) scenario {
	r := rand.New(rand.NewPCG(seed, 0x11fec7c1e))
	pick := func(xs ...float64) float64 { return xs[r.IntN(len(xs))] }
	dur := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(r.Int64N(int64(hi-lo)+1)) }
	sc := scenario{seed: seed}
	sc.fifo = r.IntN(3) == 0
	sc.groups = 1 + r.IntN(5)
	sc.n = 5 + r.IntN(36)
	sc.initial = r.IntN(sc.n + 1)
	sc.batch = r.IntN(4) == 0
	sc.concurrency = 1 + r.IntN(16)
	sc.maxMessages = 1 + r.IntN(10)
	if r.IntN(2) == 0 {
		sc.prefetch = r.IntN(6)
	}
	sc.vis = time.Duration(1+r.IntN(20)) * time.Second
	if r.IntN(2) == 0 {
		sc.heartbeat = dur(sc.vis/6, sc.vis/2)
	}
	sc.wait = time.Duration(1+r.IntN(20)) * time.Second
	switch r.IntN(3) {
	case 0:
		sc.ackDelay = -1
	case 1:
		sc.ackDelay = dur(10*time.Millisecond, 500*time.Millisecond)
	}
	sc.backoff = -1
	if r.IntN(2) == 0 {
		sc.backoff = time.Duration(r.IntN(6)) * time.Second
	}
	sc.onPermanent = r.IntN(3)
	if r.IntN(5) > 0 {
		sc.shutdownTimeout = dur(time.Second, 20*time.Second)
	}
	sc.stopAfter = dur(0, 30*time.Second)
	sc.viaShutdown = r.IntN(5) < 3
	sc.shutdownCtx = -1
	if sc.viaShutdown && r.IntN(2) == 0 {
		sc.shutdownCtx = dur(0, 25*time.Second)
	}
	sc.faults = chaosFaults{
		reqErr:   pick(0, 0, 0.05, 0.2),
		entryErr: pick(0, 0, 0.05, 0.2),
		respLost: pick(0, 0, 0.05, 0.15),
		cancel:   cancelMode(r.IntN(3)),
		latency:  time.Duration(pick(0, 0, 2, 30, 200)) * time.Millisecond,
	}
	sc.steal = pick(0, 0, 0.1, 0.3)
	sc.pFail = pick(0, 0.1, 0.3)
	sc.pPerm = pick(0, 0.05, 0.15)
	sc.pPanic = pick(0, 0, 0.05)
	sc.pSlow = pick(0, 0.2, 0.5)
	sc.pBlock = pick(0, 0, 0.03, 0.1)
	sc.slowMax = dur(100*time.Millisecond, 3*sc.vis)
	return sc
}

func (sc scenario) String() string {
	q := "standard"
	if sc.fifo {
		q = fmt.Sprintf("fifo (%d groups)", sc.groups)
	}
	h := "Handler"
	if sc.batch {
		h = "BatchHandler"
	}
	stop := "Run's context ends"
	if sc.viaShutdown {
		stop = "Shutdown"
		if sc.shutdownCtx >= 0 {
			stop += fmt.Sprintf(" (context timeout %v)", sc.shutdownCtx)
		}
	}
	backoff := "default"
	if sc.backoff >= 0 {
		backoff = sc.backoff.String()
	}
	f := sc.faults
	return fmt.Sprintf("%s queue, %d messages (%d before Run), %s, Concurrency %d, MaxMessages %d, Prefetch %d, "+
		"VisibilityTimeout %v, HeartbeatInterval %v, WaitTime %v, AckMaxDelay %v, Backoff %s, OnPermanent %s, "+
		"ShutdownTimeout %v; %s after %v; faults: request %.2f, entry %.2f, answer lost %.2f, cancelled receive %v, latency <%v; "+
		"thefts %.2f; outcomes: fail %.2f, permanent %.2f, panic %.2f, slow %.2f (<%v), block %.2f",
		q, sc.n, sc.initial, h, sc.concurrency, sc.maxMessages, sc.prefetch, sc.vis, sc.heartbeat, sc.wait, sc.ackDelay,
		backoff, [...]string{"nil", "ok", "flaky"}[sc.onPermanent], sc.shutdownTimeout, stop, sc.stopAfter,
		f.reqErr, f.entryErr, f.respLost, f.cancel, f.latency, sc.steal,
		sc.pFail, sc.pPerm, sc.pPanic, sc.pSlow, sc.slowMax, sc.pBlock)
}

// plan is what the handler does with message idx at its attempt-th handling
// (from 0), and for how long when slow.
func (sc scenario) plan(idx, attempt int) (outcome, time.Duration, bool) {
	r := rand.New(rand.NewPCG(sc.seed, uint64(idx)<<16|uint64(attempt)))
	slow := time.Duration(r.Int64N(int64(sc.slowMax) + 1))
	failSlow := r.IntN(4) == 0
	if attempt >= 3 {
		return outOK, 0, false
	}
	x := r.Float64()
	for _, c := range []struct {
		p float64
		o outcome
	}{{sc.pFail, outFail}, {sc.pPerm, outPermanent}, {sc.pPanic, outPanic}, {sc.pSlow, outSlow}, {sc.pBlock, outBlock}} {
		if x < c.p {
			return c.o, slow, failSlow
		}
		x -= c.p
	}
	return outOK, 0, false
}

var errPlanned = errors.New("planned failure")

// act carries out an outcome: it returns the handler's result, or panics.
func act(ctx context.Context, o outcome, slow time.Duration, failSlow bool) error {
	switch o {
	case outFail:
		return errPlanned
	case outPermanent:
		return consumer.Permanent(errPlanned)
	case outPanic:
		panic("planned panic")
	case outSlow:
		t := time.NewTimer(slow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if failSlow {
			return errPlanned
		}
	case outBlock:
		<-ctx.Done()
		return context.Cause(ctx)
	}
	return nil
}

// shutdownMargin is how much longer than its deadline (and than a call
// that ignores its cancellation) a shutdown may take: the flushes of the
// deletes and releases after the deadline, with a few retries.
const shutdownMargin = 3 * time.Second

// runScenario runs sc in the current bubble and returns the violations and
// a summary.
func runScenario(t *testing.T, sc scenario) ([]violation, string) {
	eng := newEngine(t)
	var q backend.Queue
	if sc.fifo {
		q = newQueue(t, eng, "life.fifo", backend.Attributes{"FifoQueue": "true"})
	} else {
		q = newQueue(t, eng, "life", nil)
	}
	led := newLedger(sc.fifo, sc.batch, sc.concurrency, sc.onPermanent != 0)
	led.peek = func(id string) (native.PeekedMessage, bool) {
		after := ""
		for {
			page, err := eng.Peek(context.Background(), q.URL(), native.PeekRequest{Max: native.MaxPeekMax, After: after})
			if err != nil {
				return native.PeekedMessage{}, false
			}
			for _, pm := range page {
				if pm.MessageID == id {
					return pm, true
				}
			}
			if len(page) < native.MaxPeekMax {
				return native.PeekedMessage{}, false
			}
			after = page[len(page)-1].MessageID
		}
	}
	cq := newChaosQueue(q, led, sc.faults, sc.seed)
	cq.plant = sc.plant

	qc := consumer.QueueConfig{
		Queue: cq, Concurrency: sc.concurrency, MaxMessages: sc.maxMessages, Prefetch: sc.prefetch,
		VisibilityTimeout: sc.vis, HeartbeatInterval: sc.heartbeat, WaitTime: sc.wait, AckMaxDelay: sc.ackDelay,
	}
	if sc.backoff >= 0 {
		qc.Backoff = consumer.ConstantBackoff(sc.backoff)
	}
	idxOf := func(msg *consumer.Message) int { n, _ := strconv.Atoi(msg.Body); return n }
	if sc.batch {
		qc.BatchHandler = consumer.BatchHandlerFunc(func(ctx context.Context, msgs []*consumer.Message) (results []error) {
			c, attempts := led.begin(msgs)
			outs := make([]outcome, len(msgs))
			slow, failSlow := time.Duration(0), make([]bool, len(msgs))
			for i, msg := range msgs {
				var s time.Duration
				outs[i], s, failSlow[i] = sc.plan(idxOf(msg), attempts[i])
				slow = max(slow, s)
			}
			defer func() {
				r := recover()
				errs := results
				if r != nil {
					errs = make([]error, len(msgs))
					for i := range errs {
						errs[i] = &consumer.PanicError{Value: r}
					}
				}
				led.end(c, errs, context.Cause(ctx))
				if r != nil {
					panic(r)
				}
			}()
			var wait outcome = outOK
			for _, o := range outs {
				switch {
				case o == outPanic:
					panic("planned panic")
				case o == outBlock:
					wait = outBlock
				case o == outSlow && wait != outBlock:
					wait = outSlow
				}
			}
			if err := act(ctx, wait, slow, false); err != nil {
				results = make([]error, len(msgs))
				for i := range results {
					results[i] = err
				}
				return results
			}
			results = make([]error, len(msgs))
			all := true
			for i, o := range outs {
				if o == outSlow {
					o = outOK
					if failSlow[i] {
						o = outFail
					}
				}
				results[i] = act(ctx, o, 0, false)
				all = all && results[i] == nil
			}
			if all && sc.seed%2 == 0 {
				return nil // every message succeeded
			}
			return results
		})
	} else {
		qc.Handler = consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) (err error) {
			c, attempts := led.begin([]*consumer.Message{msg})
			o, slow, failSlow := sc.plan(idxOf(msg), attempts[0])
			defer func() {
				r := recover()
				e := err
				if r != nil {
					e = &consumer.PanicError{Value: r}
				}
				led.end(c, []error{e}, context.Cause(ctx))
				if r != nil {
					panic(r)
				}
			}()
			return act(ctx, o, slow, failSlow)
		})
	}
	switch sc.onPermanent {
	case 1:
		qc.OnPermanent = func(ctx context.Context, msg *consumer.Message, err error) error {
			led.onPermanent(msg, nil)
			return nil
		}
	case 2:
		qc.OnPermanent = func(ctx context.Context, msg *consumer.Message, err error) error {
			var e error
			if rand.New(rand.NewPCG(sc.seed, uint64(idxOf(msg))<<16|uint64(msg.ReceiveCount))).IntN(2) == 0 {
				e = errors.New("planned OnPermanent failure")
			}
			led.onPermanent(msg, e)
			return e
		}
	}
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{qc}, ShutdownTimeout: sc.shutdownTimeout, OnError: func(err error) {
			if *lifecycleLog {
				t.Logf("%s OnError: %v", led.since(time.Now()), err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	drv := rand.New(rand.NewPCG(sc.seed, 0xd1e))
	sent := 0
	send := func(k int) {
		var entries []backend.SendEntry
		for i := sent; i < min(sc.n, sent+k); i++ {
			e := backend.SendEntry{ID: strconv.Itoa(i - sent), Body: strconv.Itoa(i)}
			if sc.fifo {
				e.MessageGroupID = "g" + strconv.Itoa(i%sc.groups)
				e.MessageDeduplicationID = strconv.Itoa(i)
			}
			entries = append(entries, e)
		}
		if len(entries) == 0 {
			return
		}
		res, err := q.Send(context.Background(), entries)
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range res {
			if r.Err != nil {
				t.Fatalf("send %s: %v", entries[k].Body, r.Err)
			}
			led.sent(r.MessageID, sent+k, entries[k].MessageGroupID)
		}
		sent += len(entries)
	}
	for sent < sc.initial {
		send(min(10, sc.initial-sent))
	}

	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(runCtx) }()

	// The driver: send the rest, steal leases, until the shutdown.
	stopAt := time.Now().Add(sc.stopAfter)
	for {
		step := time.Duration(drv.Int64N(int64(2 * time.Second)))
		if left := time.Until(stopAt); step > left {
			step = left
		}
		time.Sleep(step)
		if !time.Now().Before(stopAt) {
			break
		}
		if sent < sc.n && drv.IntN(2) == 0 {
			send(1 + drv.IntN(10))
		}
		if sc.steal > 0 && drv.Float64() < sc.steal {
			if ds := led.stealable(); len(ds) > 0 {
				d := ds[drv.IntN(len(ds))]
				res, err := q.ChangeVisibility(context.Background(), []backend.VisibilityEntry{{ID: "0", ReceiptHandle: d.handle}})
				if err == nil && res[0].Err == nil {
					led.steal(d)
				}
			}
		}
	}

	// The shutdown.
	deadline := sc.shutdownTimeout
	if deadline == 0 {
		deadline = consumer.DefaultShutdownTimeout
	}
	if sc.shutdownCtx >= 0 {
		deadline = min(deadline, sc.shutdownCtx)
	}
	stubborn := sc.faults.latency
	if sc.faults.cancel == cancelSync {
		stubborn += sc.wait
	}
	end := endState{viaShutdown: sc.viaShutdown, deadline: deadline, bound: deadline + stubborn + shutdownMargin}
	t0 := time.Now()
	led.beginStop(t0.Add(deadline))
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if sc.viaShutdown {
			ctx := context.Background()
			if sc.shutdownCtx >= 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, sc.shutdownCtx)
				defer cancel()
			}
			end.shutdownErr = srv.Shutdown(ctx)
		} else {
			cancelRun()
		}
		end.runErr = <-runDone
		end.elapsed = time.Since(t0)
	}()
	hang := time.NewTimer(end.bound + time.Hour)
	select {
	case <-stopped:
		hang.Stop()
	case <-hang.C:
		end.hung = true
		t.Errorf("seed %d: the shutdown hangs; goroutines will be left behind", sc.seed)
		return led.check(end), ""
	}
	cq.bg.Wait() // receives that outlived their calls
	synctest.Wait()
	end.inflight = peekInflight(t, eng, q.URL())
	// A queue call that ignores cancellation is left to end by itself
	// (see Server.Shutdown): once the longest long poll is over, no
	// goroutine of the consumer may be left.
	time.Sleep(21 * time.Second)
	synctest.Wait()
	end.leftovers = consumerGoroutines()
	vs := led.check(end)

	st := srv.Stats()
	led.mu.Lock()
	defer led.mu.Unlock()
	summary := fmt.Sprintf("%v\nstats %+v; %d handler calls (at most %d at once), %d deliveries handed over, %d answers lost; "+
		"shutdown in %v (deadline %v): Shutdown %v, Run %v; left in flight: %d, excused %v",
		sc, st, len(led.calls), led.maxRunning, led.deliveredCnt, led.lostAnswers,
		end.elapsed, end.deadline, end.shutdownErr, end.runErr, len(end.inflight), led.excused)
	return vs, summary
}

// peekInflight returns the queue's messages that are in flight.
func peekInflight(t *testing.T, eng *native.Engine, url string) []native.PeekedMessage {
	var out []native.PeekedMessage
	after := ""
	for {
		page, err := eng.Peek(context.Background(), url, native.PeekRequest{Max: native.MaxPeekMax, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, pm := range page {
			if pm.State == native.PeekInflight {
				out = append(out, pm)
			}
		}
		if len(page) < native.MaxPeekMax {
			return out
		}
		after = page[len(page)-1].MessageID
	}
}

// consumerGoroutines returns the stacks of the goroutines running code of
// package consumer.
func consumerGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "postbox-go/postbox/consumer.") {
			out = append(out, g)
		}
	}
	return out
}

// TestLifecycleCatchesPlantedBugs shows that the checker of
// TestLifecycleRandom is not vacuous: bugs planted in the layer between the
// consumer and the engine, imitating consumer bugs, are reported, while the
// same scenarios without them pass.
func TestLifecycleCatchesPlantedBugs(t *testing.T) {
	// quiet is a scenario without faults, thefts or slow receives: the
	// consumer under test passes it.
	quiet := func() scenario {
		return scenario{
			seed: 1, groups: 1, n: 30, initial: 30, concurrency: 4, maxMessages: 10,
			vis: 10 * time.Second, wait: time.Second, backoff: -1, shutdownTimeout: 5 * time.Second,
			stopAfter: 20 * time.Second, viaShutdown: true, shutdownCtx: -1,
			slowMax: 2 * time.Second,
		}
	}
	for _, tc := range []struct {
		name  string
		sc    func() scenario
		plant plantedBugs
		want  string // the kind of violation expected
	}{
		{"ack of the wrong handle", func() scenario {
			sc := quiet()
			sc.pFail, sc.pSlow = 0.2, 0.5
			return sc
		}, plantedBugs{wrongAck: true}, kindAck},
		{"release dropped at shutdown", func() scenario {
			sc := quiet()
			sc.prefetch, sc.pBlock, sc.stopAfter = 4, 1, 2*time.Second
			return sc
		}, plantedBugs{dropRelease: true}, kindStrand},
		{"two handlers of one FIFO group at once", func() scenario {
			sc := quiet()
			sc.fifo, sc.groups, sc.pSlow = true, 2, 1
			return sc
		}, plantedBugs{splitGroups: true}, kindFIFOOverlap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc()
			var control []violation
			synctest.Test(t, func(t *testing.T) { control, _ = runScenario(t, sc) })
			for _, v := range control {
				t.Errorf("without the bug: %v", v)
			}
			sc.plant = tc.plant
			var planted []violation
			synctest.Test(t, func(t *testing.T) { planted, _ = runScenario(t, sc) })
			kinds := map[string]int{}
			for _, v := range planted {
				kinds[v.kind]++
			}
			t.Logf("with the bug: violations by kind %v", kinds)
			if kinds[tc.want] == 0 {
				t.Errorf("with the bug: no %s violation among %v", tc.want, planted)
			}
		})
	}
}
