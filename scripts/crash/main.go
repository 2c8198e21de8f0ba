// Command crash is the crash test of postbox's durable engine.
//
// It runs `postbox serve --data-dir DIR` as a child process, drives
// concurrent sends, receives, deletes and visibility changes on a standard
// and a FIFO queue, kills the server with SIGKILL at a random moment while
// requests are in flight, restarts it on the same directory, and repeats.
// Across all cycles it checks that every acknowledged send is received
// (in some cycle or in a final drain), that no acknowledged delete comes
// back, that FIFO order holds within each group, that receive counts never
// go backwards, and that the store opens every time. See README.md.
//
// Usage:
//
//	go build -o /tmp/postbox ./cmd/postbox
//	go run ./scripts/crash -postbox /tmp/postbox -cycles 50
//
// or scripts/crash/run, which does both. -selftest runs one cycle with
// faults injected into the checker's knowledge and passes only if the
// checker reports each of them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/internal/serveproc"
)

const (
	stdName  = "crash-std"
	fifoName = "crash-fifo.fifo"
)

// config is the command line.
type config struct {
	bin          string
	cycles       int
	seed         uint64
	minRun       time.Duration
	maxRun       time.Duration
	producers    int
	consumers    int
	groups       int
	visibility   int
	dataDir      string
	keep         bool
	selftest     bool
	inMemory     bool
	sync         string
	startTimeout time.Duration
	drainTimeout time.Duration
	timeout      time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "postbox", "", "the postbox binary to run (required)")
	flag.IntVar(&cfg.cycles, "cycles", 50, "kill-and-restart cycles")
	flag.Uint64Var(&cfg.seed, "seed", 0, "random seed (0: from the clock; printed either way)")
	flag.DurationVar(&cfg.minRun, "min-run", 50*time.Millisecond, "shortest time the load runs before the kill")
	flag.DurationVar(&cfg.maxRun, "max-run", 400*time.Millisecond, "longest time the load runs before the kill")
	flag.IntVar(&cfg.producers, "producers", 3, "producer goroutines")
	flag.IntVar(&cfg.consumers, "consumers", 3, "consumer goroutines")
	flag.IntVar(&cfg.groups, "groups", 8, "FIFO message groups")
	flag.IntVar(&cfg.visibility, "visibility", 2, "the queues' VisibilityTimeout, seconds")
	flag.StringVar(&cfg.dataDir, "data-dir", "", "work directory, empty or new (default: a new temporary one, removed on success)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory even on success")
	flag.BoolVar(&cfg.selftest, "selftest", false, "run one cycle with faults injected into the checker; pass only if each is reported")
	flag.BoolVar(&cfg.inMemory, "in-memory", false, "run postbox serve without --data-dir, to see the checks fail on a store that keeps nothing")
	flag.StringVar(&cfg.sync, "sync", "always", "postbox serve --sync mode")
	flag.DurationVar(&cfg.startTimeout, "start-timeout", 10*time.Second, "how long a restart may take to answer")
	flag.DurationVar(&cfg.drainTimeout, "drain-timeout", 60*time.Second, "how long the final drain may take")
	flag.DurationVar(&cfg.timeout, "timeout", 0, "bound on the whole run (default: 2m + 10s per cycle)")
	flag.Parse()
	if cfg.bin == "" || cfg.cycles < 1 || cfg.minRun <= 0 || cfg.maxRun < cfg.minRun ||
		cfg.producers < 1 || cfg.consumers < 1 || cfg.groups < 1 || cfg.visibility < 1 {
		fmt.Fprintln(os.Stderr, "crash: -postbox is required; -cycles, -producers, -consumers, -groups, -visibility must be positive, 0 < -min-run <= -max-run")
		flag.Usage()
		os.Exit(2)
	}
	if cfg.selftest {
		cfg.cycles = 1
	}
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	if cfg.timeout == 0 {
		cfg.timeout = 2*time.Minute + time.Duration(cfg.cycles)*10*time.Second
	}
	os.Exit(run(cfg))
}

// run runs the whole test and returns the exit code.
func run(cfg config) int {
	began := time.Now()
	work := cfg.dataDir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "postbox-crash-"); err != nil {
			fmt.Fprintln(os.Stderr, "crash:", err)
			return 1
		}
	} else if ents, err := os.ReadDir(work); err == nil && len(ents) > 0 {
		fmt.Fprintf(os.Stderr, "crash: -data-dir %s is not empty\n", work)
		return 2
	}
	scfg := serveproc.Config{
		Bin: cfg.bin, DataDir: filepath.Join(work, "data"), LogPath: filepath.Join(work, "serve.log"),
		Sync: cfg.sync, Timeout: cfg.startTimeout, InMemory: cfg.inMemory,
	}
	if err := os.MkdirAll(scfg.DataDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		return 1
	}
	fmt.Printf("crash: %d cycles, seed %d, work dir %s\n", cfg.cycles, cfg.seed, work)

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	groups := cfg.groups
	if cfg.selftest {
		groups++ // one group of its own for the injected FIFO fault
	}
	ck := newChecker(groups)
	d := newDriver(ck, cfg.seed, cfg.producers, cfg.consumers, cfg.groups)
	rng := rand.New(rand.NewPCG(cfg.seed, 0xc7a5))
	var injected []violation
	completed := 0
	var fatal error

	for cycle := 1; cycle <= cfg.cycles && fatal == nil; cycle++ {
		ck.setCycle(cycle)
		srv, svc, err := serveproc.Start(ctx, scfg, "cycle "+strconv.Itoa(cycle))
		if err != nil {
			ck.report(kindStoreOpen, "", "%v", err)
			fatal = err
			break
		}
		std, fifo, err := queues(ctx, svc, cfg, cycle == 1, ck)
		if err != nil {
			svc.Close()
			srv.Kill()
			fatal = err
			break
		}
		wctx, stopWorkers := context.WithCancel(ctx)
		env := d.start(wctx, cycle, std, fifo)
		runFor := cfg.minRun + time.Duration(rng.Int64N(int64(cfg.maxRun-cfg.minRun)+1))
		pause(ctx, runFor)
		if cfg.selftest {
			// Quiesce first, so that nothing consumes what the faults are
			// about, then send it and inject the faults.
			stopWorkers()
			env.wait()
			injected, err = injectFaults(ctx, ck, std, fifo, cfg.groups)
			if err != nil {
				fatal = err
			}
		}
		env.killed.Store(true)
		srv.Kill()
		stopWorkers()
		env.wait()
		svc.Close()
		if ctx.Err() != nil {
			fatal = fmt.Errorf("the run took longer than -timeout %v", cfg.timeout)
			break
		}
		completed = cycle
		if cycle%50 == 0 && cycle < cfg.cycles {
			vs, st := ck.snapshot()
			fmt.Printf("crash: cycle %d/%d after %v: acked %d, received %d, deleted %d, violations %d\n",
				cycle, cfg.cycles, time.Since(began).Round(time.Second), st.acked, st.received, st.deleted, len(vs))
		}
	}

	if fatal == nil {
		ck.setCycle(0)
		if err := finish(ctx, scfg, cfg, ck); err != nil {
			fatal = err
		}
	}

	vs, st := ck.snapshot()
	nUnexp, unexp := d.unexpected()
	torn := countInLog(scfg.LogPath, "skipped damaged bytes")
	code := 0

	if cfg.selftest {
		code = judgeSelftest(os.Stdout, injected, vs)
	} else if len(vs) > 0 {
		byKind := map[string]int{}
		for _, v := range vs {
			byKind[v.Kind]++
		}
		var kinds []string
		for k, n := range byKind {
			kinds = append(kinds, k+"="+strconv.Itoa(n))
		}
		slices.Sort(kinds)
		fmt.Printf("crash: %d violation(s) (%s):\n", len(vs), strings.Join(kinds, " "))
		for i, v := range vs {
			if i == 100 {
				fmt.Printf("  ... and %d more\n", len(vs)-100)
				break
			}
			fmt.Println("  " + v.String())
		}
		printHistories(ck, vs)
		code = 1
	}
	if fatal != nil {
		fmt.Printf("crash: run stopped: %v\n", fatal)
		code = 1
	}
	if nUnexp > 0 {
		fmt.Printf("crash: %d request(s) failed while the server was up (outcome unknown, not violations):\n", nUnexp)
		for _, s := range unexp {
			fmt.Println("  " + s)
		}
	}
	fmt.Printf("crash: cycles=%d sent=%d acked=%d received=%d deleted=%d max-receive-count=%d violations=%d"+
		" (fifo-acked=%d cut-off-requests=%d delete-rejections=%d unexpected-errors=%d torn-log-tails=%d sync=%s seed=%d took=%v)\n",
		completed, st.sent, st.acked, st.received, st.deleted, st.maxCount, len(vs),
		st.ackedFIFO, d.nUnknown.Load(), st.deleteRejects, nUnexp, torn, cfg.sync, cfg.seed, time.Since(began).Round(100*time.Millisecond))

	if code == 0 && !cfg.keep {
		os.RemoveAll(work)
	} else {
		fmt.Printf("crash: work dir kept: %s (data/ is the store, serve.log the server's output)\n", work)
	}
	if cfg.selftest {
		if code == 0 {
			fmt.Println("crash-selftest: 1 passed, 0 failed")
		} else {
			fmt.Println("crash-selftest: 0 passed, 1 failed")
		}
		return code
	}
	// A cycle passed when it ran to its kill and no violation was found
	// in it; the final drain's findings count against the last cycle, and
	// cycles a stopped run never reached count as failed.
	failedCycles := map[int]bool{}
	for _, v := range vs {
		c := v.Cycle
		if c == 0 {
			c = cfg.cycles
		}
		failedCycles[c] = true
	}
	passed := 0
	for c := 1; c <= completed; c++ {
		if !failedCycles[c] {
			passed++
		}
	}
	if fatal != nil || code != 0 {
		passed = min(passed, cfg.cycles-1)
	}
	fmt.Printf("crash: %d passed, %d failed\n", passed, cfg.cycles-passed)
	return code
}

// queueAttrs returns the attributes of the test's queues.
func queueAttrs(cfg config, fifo bool) backend.Attributes {
	a := backend.Attributes{"VisibilityTimeout": strconv.Itoa(cfg.visibility)}
	if fifo {
		a["FifoQueue"] = "true"
	}
	return a
}

// queues returns the two queues: created in the first cycle, found (and
// required to exist) after every restart.
func queues(ctx context.Context, svc *awssqs.Service, cfg config, create bool, ck *checker) (backend.Queue, backend.Queue, error) {
	var urls [2]string
	if create {
		for i, name := range []string{stdName, fifoName} {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			u, err := svc.CreateQueue(rctx, name, queueAttrs(cfg, i == 1), nil)
			cancel()
			if err != nil {
				return nil, nil, fmt.Errorf("creating %s: %w", name, err)
			}
			urls[i] = u
		}
	} else {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := svc.ListQueues(rctx, backend.ListQueuesRequest{})
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("listing queues: %w", err)
		}
		for i, name := range []string{stdName, fifoName} {
			idx := slices.IndexFunc(res.QueueURLs, func(u string) bool { return strings.HasSuffix(u, "/"+name) })
			if idx >= 0 {
				urls[i] = res.QueueURLs[idx]
				continue
			}
			// Reported, then created again so that the run goes on and
			// shows what else was lost.
			ck.report(kindQueueLost, "", "queue %s is missing after the restart (ListQueues: %v)", name, res.QueueURLs)
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			u, err := svc.CreateQueue(rctx, name, queueAttrs(cfg, i == 1), nil)
			cancel()
			if err != nil {
				return nil, nil, fmt.Errorf("creating %s again: %w", name, err)
			}
			urls[i] = u
		}
	}
	std, err := svc.Queue(urls[0])
	if err != nil {
		return nil, nil, err
	}
	fifo, err := svc.Queue(urls[1])
	if err != nil {
		return nil, nil, err
	}
	return std, fifo, nil
}

// finish restarts the server once more, drains both queues and applies
// the final check; then it kills and restarts the server again to see
// that the drained queues stay empty, and stops it gracefully.
func finish(ctx context.Context, scfg serveproc.Config, cfg config, ck *checker) error {
	srv, svc, err := serveproc.Start(ctx, scfg, "final drain")
	if err != nil {
		ck.report(kindStoreOpen, "", "%v", err)
		return err
	}
	std, fifo, err := queues(ctx, svc, cfg, false, ck)
	if err == nil {
		err = drain(ctx, svc, std, fifo, ck, cfg.drainTimeout)
	}
	svc.Close()
	srv.Kill()
	if err != nil {
		return err
	}
	ck.finalCheck()

	srv, svc, err = serveproc.Start(ctx, scfg, "after drain")
	if err != nil {
		ck.report(kindStoreOpen, "", "%v", err)
		return err
	}
	defer svc.Close()
	std, fifo, err = queues(ctx, svc, cfg, false, ck)
	if err == nil {
		for i, q := range []backend.Queue{std, fifo} {
			var n int
			if n, err = receiveAll(ctx, q, i == 1, ck, false); err != nil {
				break
			}
			if n > 0 {
				ck.report(kindResurrected, "", "%d message(s) in the %s queue after it was drained and the server restarted", n, queueKind(i == 1))
			}
		}
	}
	if terr := srv.Terminate(15 * time.Second); terr != nil {
		ck.report(kindServerExit, "", "%v", terr)
	}
	return err
}

// drain receives and deletes until both queues are empty, with nothing in
// flight or delayed, or timeout passes.
func drain(ctx context.Context, svc *awssqs.Service, std, fifo backend.Queue, ck *checker, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		total := 0
		for i, q := range []backend.Queue{std, fifo} {
			n, err := receiveAll(ctx, q, i == 1, ck, true)
			if err != nil {
				return err
			}
			total += n
		}
		if total > 0 {
			continue
		}
		left := 0
		var counts []string
		for _, q := range []backend.Queue{std, fifo} {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			a, err := svc.GetAttributes(rctx, q.URL(), []string{"ApproximateNumberOfMessages",
				"ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"})
			cancel()
			if err != nil {
				return fmt.Errorf("drain: attributes of %s: %w", q.URL(), err)
			}
			for k, v := range a {
				n, _ := strconv.Atoi(v)
				left += n
				if n > 0 {
					counts = append(counts, q.URL()+" "+k+"="+v)
				}
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			ck.report(kindDrainTimeout, "", "queues not empty after %v: %s", timeout, strings.Join(counts, ", "))
			return errors.New("drain incomplete")
		}
		if !pause(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// receiveAll receives from q (waiting up to a second) until a receive
// comes back empty, recording everything with the checker, and deletes
// what it got when del is set. It returns how many messages it received.
func receiveAll(ctx context.Context, q backend.Queue, fifo bool, ck *checker, del bool) (int, error) {
	total := 0
	for {
		wait, vis := 1, 30
		if !del {
			wait = 0
		}
		start := ck.now()
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		msgs, err := q.Receive(rctx, backend.ReceiveRequest{
			MaxMessages: backend.MaxBatchEntries, WaitTimeSeconds: &wait, VisibilityTimeout: &vis,
			SystemAttributeNames: receiveAttrs,
		})
		cancel()
		returned := ck.now()
		if err != nil {
			return total, fmt.Errorf("receive from %s: %w", q.URL(), err)
		}
		ck.received(fifo, start, returned, msgs)
		total += len(msgs)
		if len(msgs) == 0 {
			return total, nil
		}
		if !del {
			continue
		}
		env := &cycleEnv{d: &driver{ck: ck}}
		env.killed.Store(true) // any error below ends the drain instead of retrying
		if env.delete(ctx, q, msgs) {
			return total, fmt.Errorf("delete from %s failed", q.URL())
		}
	}
}

// countInLog counts the lines of the server log that contain s.
func countInLog(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), s)
}

// printHistories prints what happened to the bodies of the first
// violations, and to the bodies that explain them.
func printHistories(ck *checker, vs []violation) {
	seen := map[string]bool{}
	n := 0
	for _, v := range vs {
		for _, b := range append([]string{v.Body}, v.Related...) {
			if b == "" || seen[b] || n >= 20 {
				continue
			}
			seen[b] = true
			n++
			fmt.Printf("crash: history of %s:\n", b)
			for _, h := range ck.history(b) {
				fmt.Println("    " + h)
			}
		}
	}
}
