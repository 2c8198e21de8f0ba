// Command shutdownchaos is the SIGTERM shutdown chaos test of
// consumer.Server.
//
// The driver (the default role) starts `postbox serve --data-dir DIR` on
// 127.0.0.1, creates a standard and a FIFO queue, and for each cycle keeps
// both queues loaded while it runs a worker (this program's "worker" role,
// a consumer.Server in a child process), sends the worker SIGTERM at a
// random moment and, right after the worker's graceful exit, checks that
// nothing is left invisible in either queue. A final worker run drains
// everything; across cycles it checks that no acknowledged send was lost
// and that FIFO order held within each group. See
// scripts/shutdown/README.md.
//
// Usage:
//
//	go build -o /tmp/postbox ./cmd/postbox
//	go run ./internal/cmd/shutdownchaos -postbox /tmp/postbox -cycles 20
//
// or scripts/shutdown/run, which does both.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postbox-go/postbox/internal/serveproc"
)

// config is the driver's command line.
type config struct {
	bin          string
	cycles       int
	seed         uint64
	minWait      time.Duration
	maxWait      time.Duration
	concurrency  int
	visibility   time.Duration
	groups       int
	backlog      int
	exitMargin   time.Duration
	startTimeout time.Duration
	drainTimeout time.Duration
	dataDir      string
	keep         bool
	timeout      time.Duration
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(workerMain(os.Args[2:]))
	}
	var cfg config
	flag.StringVar(&cfg.bin, "postbox", "", "the postbox binary to run (required)")
	flag.IntVar(&cfg.cycles, "cycles", 20, "SIGTERM cycles")
	flag.Uint64Var(&cfg.seed, "seed", 0, "random seed (0: from the clock; printed either way)")
	flag.DurationVar(&cfg.minWait, "min-wait", 50*time.Millisecond, "shortest time the worker runs before SIGTERM")
	flag.DurationVar(&cfg.maxWait, "max-wait", 1500*time.Millisecond, "longest time the worker runs before SIGTERM")
	flag.IntVar(&cfg.concurrency, "concurrency", 16, "the worker's Concurrency on each queue")
	flag.DurationVar(&cfg.visibility, "visibility", 60*time.Second, "the worker's VisibilityTimeout (and the queues')")
	flag.IntVar(&cfg.groups, "groups", 8, "FIFO message groups")
	flag.IntVar(&cfg.backlog, "backlog", 100, "messages the producer keeps waiting in each queue while a worker runs")
	flag.DurationVar(&cfg.exitMargin, "exit-margin", 10*time.Second, "how long past the worker's ShutdownTimeout (30 s) it may take to exit after SIGTERM")
	flag.DurationVar(&cfg.startTimeout, "start-timeout", 10*time.Second, "how long postbox serve and a worker may take to start")
	flag.DurationVar(&cfg.drainTimeout, "drain-timeout", 0, "how long the final drain may take (default: -visibility + 30s)")
	flag.StringVar(&cfg.dataDir, "data-dir", "", "work directory, empty or new (default: a new temporary one, removed on success)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory even on success")
	flag.DurationVar(&cfg.timeout, "timeout", 0, "bound on the whole run (default: 3m + 10s per cycle)")
	flag.Parse()
	if cfg.bin == "" || cfg.cycles < 1 || cfg.minWait <= 0 || cfg.maxWait < cfg.minWait || cfg.concurrency < 1 ||
		cfg.visibility < time.Second || cfg.groups < 1 || cfg.backlog < 1 {
		fmt.Fprintln(os.Stderr, "shutdownchaos: -postbox is required; -cycles, -concurrency, -groups, -backlog must be positive, -visibility at least 1s, 0 < -min-wait <= -max-wait")
		flag.Usage()
		os.Exit(2)
	}
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	if cfg.drainTimeout == 0 {
		cfg.drainTimeout = cfg.visibility + 30*time.Second
	}
	if cfg.timeout == 0 {
		cfg.timeout = 3*time.Minute + time.Duration(cfg.cycles)*10*time.Second
	}
	os.Exit(run(cfg))
}

// stranded counts messages left invisible after graceful exits.
type stranded struct {
	std, fifo             int // messages
	stdCycles, fifoCycles int // cycles with some
}

// run runs the whole test and returns the exit code.
func run(cfg config) int {
	began := time.Now()
	work := cfg.dataDir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "postbox-shutdown-"); err != nil {
			fmt.Fprintln(os.Stderr, "shutdownchaos:", err)
			return 1
		}
	} else if ents, err := os.ReadDir(work); err == nil && len(ents) > 0 {
		fmt.Fprintf(os.Stderr, "shutdownchaos: -data-dir %s is not empty\n", work)
		return 2
	}
	dataDir := filepath.Join(work, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "shutdownchaos:", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shutdownchaos:", err)
		return 1
	}
	// Placeholder credentials and no shared AWS config, for the driver
	// and (inherited) the workers.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "shutdownchaos", "AWS_SECRET_ACCESS_KEY": "shutdownchaos",
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(work, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(work, "aws-credentials"),
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"} {
		os.Unsetenv(k)
	}
	fmt.Printf("shutdownchaos: %d cycles, seed %d, work dir %s\n", cfg.cycles, cfg.seed, work)

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	ck := newChecker()
	rng := rand.New(rand.NewPCG(cfg.seed, 0x7e57))
	var st stranded
	var maxExit time.Duration
	completed := 0
	var fatal error

	srv, svc, err := serveproc.Start(ctx, serveproc.Config{
		Bin: cfg.bin, DataDir: dataDir, LogPath: filepath.Join(work, "serve.log"), Timeout: cfg.startTimeout,
	}, "shutdownchaos")
	if err != nil {
		fmt.Printf("shutdownchaos: %v\n", err)
		fmt.Printf("shutdownchaos: work dir kept: %s\n", work)
		fmt.Printf("shutdownchaos: 0 passed, %d failed\n", cfg.cycles)
		return 1
	}
	defer svc.Close()
	d := &driver{cfg: cfg, ck: ck, svc: svc, self: self, work: work}
	gen, err := d.newGeneration(ctx, 0)
	gens := []*generation{gen}
	if err != nil {
		fatal = err
	}

	for cycle := 1; cycle <= cfg.cycles && fatal == nil; cycle++ {
		ck.setCycle(cycle)
		if gen.tainted {
			// What the last worker left invisible stays so for the
			// visibility timeout: the next cycles use new queues, so that
			// their checks see only what they did. The old ones are
			// drained at the end.
			if gen, err = d.newGeneration(ctx, gen.n+1); err != nil {
				fatal = err
				break
			}
			gens = append(gens, gen)
		}
		res, err := d.cycle(ctx, cycle, gen, rng)
		if err != nil {
			fatal = err
			break
		}
		maxExit = max(maxExit, res.exitTook)
		if res.notVisible[0] > 0 {
			st.std += res.notVisible[0]
			st.stdCycles++
		}
		if res.notVisible[1] > 0 {
			st.fifo += res.notVisible[1]
			st.fifoCycles++
		}
		completed = cycle
		fmt.Printf("shutdownchaos: cycle %d/%d: SIGTERM after %v, exit in %v, handled %d, not visible after exit: std %d, fifo %d\n",
			cycle, cfg.cycles, res.ran.Round(time.Millisecond), res.exitTook.Round(time.Millisecond), res.handled,
			res.notVisible[0], res.notVisible[1])
		if ctx.Err() != nil {
			fatal = fmt.Errorf("the run took longer than -timeout %v", cfg.timeout)
		}
	}

	if fatal == nil {
		ck.setCycle(0)
		if err := d.drain(ctx, gens); err != nil {
			fatal = err
		} else {
			ck.finalCheck()
		}
	}
	if err := srv.Terminate(15 * time.Second); err != nil {
		ck.report(kindServerExit, "%v", err)
	}

	sn := ck.snapshot()
	code := 0
	if len(sn.vs) > 0 {
		byKind := map[string]int{}
		for _, v := range sn.vs {
			byKind[v.Kind]++
		}
		var kinds []string
		for k, n := range byKind {
			kinds = append(kinds, k+"="+strconv.Itoa(n))
		}
		slices.Sort(kinds)
		fmt.Printf("shutdownchaos: %d violation(s) (%s):\n", len(sn.vs), strings.Join(kinds, " "))
		for i, v := range sn.vs {
			if i == 100 {
				fmt.Printf("  ... and %d more\n", len(sn.vs)-100)
				break
			}
			fmt.Println("  " + v.String())
		}
		code = 1
	}
	if fatal != nil {
		fmt.Printf("shutdownchaos: run stopped: %v\n", fatal)
		code = 1
	}
	fmt.Printf("shutdownchaos: cycles=%d sent=%d handled=%d redelivered=%d left-invisible: std %d in %d cycles, fifo %d in %d cycles"+
		" (max-exit=%v seed=%d took=%v)\n",
		completed, sn.sent, sn.handled, sn.dup, st.std, st.stdCycles, st.fifo, st.fifoCycles,
		maxExit.Round(time.Millisecond), cfg.seed, time.Since(began).Round(100*time.Millisecond))
	if code == 0 && !cfg.keep {
		os.RemoveAll(work)
	} else {
		fmt.Printf("shutdownchaos: work dir kept: %s (data/ the store, serve.log the server's output, worker.log the workers' stderr)\n", work)
	}
	passed, failed := tally(cfg.cycles, completed, sn.vs, fatal != nil)
	fmt.Printf("shutdownchaos: %d passed, %d failed\n", passed, failed)
	return code
}
