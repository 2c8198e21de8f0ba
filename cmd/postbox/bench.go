package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
)

// benchOptions are the flags of postbox bench.
type benchOptions struct {
	flags       clientFlags
	mode        string
	batch       int
	concurrency int
	bodySize    int
	duration    time.Duration
	messages    int64
	wait        int
	asJSON      bool
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench QUEUE",
		Short: "Generate load on a queue and report throughput and latency",
		Long: `Generate load on a queue of any endpoint (AWS SQS, postbox serve, file://,
mem://) and report throughput and the latency of each call (p50, p90, p99,
max), as a table or, with --json, as one JSON object.

bench never touches a message it did not send. It works on a scratch queue
of its own, QUEUE-bench-RANDOM (.fifo for a FIFO queue), created with
QUEUE's attributes (VisibilityTimeout, DelaySeconds, retention, sizes,
FIFO and encryption settings; not its RedrivePolicy, which would
dead-letter bench's messages into a real queue, nor its access policies),
and deletes it at the end, also when interrupted (SIGINT, SIGTERM). QUEUE
itself is only read (GetQueueAttributes). The credentials used need
CreateQueue and DeleteQueue; a bench killed with SIGKILL leaves its scratch
queue behind (postbox queues list --prefix QUEUE-bench- finds it).

Modes:
  send     send batches of --batch messages of --body-size bytes
  receive  fill the scratch queue with --messages messages (10000 by
           default; not timed), then receive batches of up to --batch
           messages and delete them; a worker stops when a receive
           (waiting --wait seconds) returns none
  cycle    send a batch, receive up to as many, delete what came: the
           messages column counts messages deleted (a full round trip)

--concurrency workers run at once. The run ends after --duration, or when
--messages messages have been sent (send, cycle) or received (receive),
whichever comes first (--messages alone: no time limit). On a terminal a
live counter shows progress and the rate over the last few seconds.
Interrupting prints the results so far.

Latency is per call, measured by the client from call to answer. On FIFO
queues each worker sends to a message group of its own, with a unique
deduplication id per message.

` + queueArgHelp + `
`,
		Example: `  postbox bench jobs --endpoint http://127.0.0.1:9324 --mode send --messages 100000 --concurrency 16
  postbox bench jobs --mode cycle --duration 30s --batch 10 --body-size 1024
  postbox bench jobs --mode receive --json | jq .throughput
  postbox bench mem://scratch --mode cycle --duration 5s`,
		Args: exactArgs(1, "a QUEUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd, o, args[0])
		},
	}
	o.flags.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.mode, "mode", "send", "send, receive or cycle")
	f.IntVar(&o.batch, "batch", 10, "messages per call, 1-10")
	f.IntVarP(&o.concurrency, "concurrency", "c", 4, "workers calling at once")
	f.IntVar(&o.bodySize, "body-size", 256, "message body size in bytes")
	f.DurationVarP(&o.duration, "duration", "d", 0, "how long to run (default 10s unless --messages is given)")
	f.Int64VarP(&o.messages, "messages", "m", 0, "stop after this many messages (default: no limit)")
	f.IntVar(&o.wait, "wait", 1, "receive and cycle modes: seconds (0-20) each receive waits for messages")
	f.BoolVar(&o.asJSON, "json", false, "print the results as one JSON object")
	return cmd
}

// benchStats are one operation's numbers.
type benchStats struct {
	calls, messages, errors int64
	latencies               []time.Duration
}

func (s *benchStats) merge(o *benchStats) {
	s.calls += o.calls
	s.messages += o.messages
	s.errors += o.errors
	s.latencies = append(s.latencies, o.latencies...)
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 1) of
// sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// benchRun is a running benchmark, shared by its workers.
type benchRun struct {
	o       benchOptions
	q       backend.Queue
	fifo    bool
	body    string
	until   time.Time // zero: no time limit
	claimed atomic.Int64
	done    atomic.Int64 // messages completed, for progress
	bar     *progress
}

// claim reserves up to n messages of the --messages budget and returns how
// many it got (0: the budget is spent or the time is up).
func (r *benchRun) claim(n int) int {
	if !r.until.IsZero() && !time.Now().Before(r.until) {
		return 0
	}
	if r.o.messages <= 0 {
		return n
	}
	for {
		c := r.claimed.Load()
		left := r.o.messages - c
		if left <= 0 {
			return 0
		}
		got := min(int64(n), left)
		if r.claimed.CompareAndSwap(c, c+got) {
			return int(got)
		}
	}
}

// benchWorker runs one worker's calls and keeps its own statistics.
type benchWorker struct {
	r     *benchRun
	id    int
	seq   int
	stats map[string]*benchStats
}

func (w *benchWorker) op(name string) *benchStats {
	s := w.stats[name]
	if s == nil {
		s = &benchStats{}
		w.stats[name] = s
	}
	return s
}

// interrupted reports whether err is the end of ctx, which ends the run
// without counting as an error.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

func (w *benchWorker) send(ctx context.Context, n int) (int, bool) {
	entries := make([]backend.SendEntry, n)
	for i := range entries {
		w.seq++
		entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: w.r.body}
		if w.r.fifo {
			entries[i].MessageGroupID = "bench-" + strconv.Itoa(w.id)
			entries[i].MessageDeduplicationID = fmt.Sprintf("bench-%d-%d-%d", time.Now().UnixNano(), w.id, w.seq)
		}
	}
	s := w.op("send")
	start := time.Now()
	res, err := w.r.q.Send(ctx, entries)
	if interrupted(ctx, err) {
		return 0, false
	}
	s.latencies = append(s.latencies, time.Since(start))
	s.calls++
	if err != nil {
		s.errors++
		return 0, true
	}
	ok := 0
	for _, r := range res {
		if r.Err != nil {
			s.errors++
			continue
		}
		ok++
	}
	s.messages += int64(ok)
	return ok, true
}

func (w *benchWorker) receiveDelete(ctx context.Context, n int) (int, bool) {
	s := w.op("receive")
	start := time.Now()
	msgs, err := w.r.q.Receive(ctx, backend.ReceiveRequest{MaxMessages: n, WaitTimeSeconds: new(w.r.o.wait)})
	if interrupted(ctx, err) {
		return 0, false
	}
	s.latencies = append(s.latencies, time.Since(start))
	s.calls++
	if err != nil {
		s.errors++
		return 0, true
	}
	s.messages += int64(len(msgs))
	if len(msgs) == 0 {
		return 0, true
	}
	entries := make([]backend.DeleteEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = backend.DeleteEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle}
	}
	d := w.op("delete")
	start = time.Now()
	res, err := w.r.q.Delete(ctx, entries)
	if interrupted(ctx, err) {
		return len(msgs), false
	}
	d.latencies = append(d.latencies, time.Since(start))
	d.calls++
	if err != nil {
		d.errors++
		return len(msgs), true
	}
	for _, r := range res {
		if r.Err != nil {
			d.errors++
			continue
		}
		d.messages++
	}
	return len(msgs), true
}

// run is one worker's loop.
func (w *benchWorker) run(ctx context.Context) {
	r := w.r
	for ctx.Err() == nil {
		switch r.o.mode {
		case "send":
			n := r.claim(r.o.batch)
			if n == 0 {
				return
			}
			sent, more := w.send(ctx, n)
			r.progress(sent)
			if !more {
				return
			}
		case "receive":
			n := r.claim(r.o.batch)
			if n == 0 {
				return
			}
			got, more := w.receiveDelete(ctx, n)
			if r.o.messages > 0 && got < n {
				r.claimed.Add(int64(got - n)) // give back what did not come
			}
			r.progress(got)
			if !more || got == 0 {
				return
			}
		case "cycle":
			n := r.claim(r.o.batch)
			if n == 0 {
				return
			}
			sent, more := w.send(ctx, n)
			if !more {
				return
			}
			if sent == 0 {
				continue
			}
			before := w.op("delete").messages
			if _, more = w.receiveDelete(ctx, sent); !more {
				return
			}
			r.progress(int(w.op("delete").messages - before))
		}
	}
}

func (r *benchRun) progress(n int) {
	if n > 0 {
		r.done.Add(int64(n))
		r.bar.Add(n)
	}
}

// benchResult is what bench prints.
type benchResult struct {
	Mode           string         `json:"mode"`
	Queue          string         `json:"queue"`
	ScratchQueue   string         `json:"scratchQueue"` // where bench ran, deleted
	Concurrency    int            `json:"concurrency"`
	Batch          int            `json:"batch"`
	BodySize       int            `json:"bodySize"`
	ElapsedSeconds float64        `json:"elapsedSeconds"`
	Messages       int64          `json:"messages"`
	Errors         int64          `json:"errors"`
	Throughput     float64        `json:"throughput"` // messages per second
	Interrupted    bool           `json:"interrupted,omitempty"`
	Operations     []benchOpStats `json:"operations"`
}

// benchOpStats are one operation's results.
type benchOpStats struct {
	Op          string       `json:"op"`
	Calls       int64        `json:"calls"`
	Messages    int64        `json:"messages"`
	Errors      int64        `json:"errors"`
	CallsPerSec float64      `json:"callsPerSecond"`
	Throughput  float64      `json:"throughput"` // messages per second
	LatencyMs   benchLatency `json:"latencyMs"`
}

// benchLatency are call latency percentiles, in milliseconds.
type benchLatency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func runBench(cmd *cobra.Command, o benchOptions, arg string) error {
	ctx := cmd.Context()
	switch {
	case o.mode != "send" && o.mode != "receive" && o.mode != "cycle":
		return usageErrorf("--mode %q: want send, receive or cycle", o.mode)
	case o.batch < 1 || o.batch > backend.MaxBatchEntries:
		return usageErrorf("--batch %d: want 1-%d", o.batch, backend.MaxBatchEntries)
	case o.concurrency < 1:
		return usageErrorf("--concurrency %d: want at least 1", o.concurrency)
	case o.bodySize < 1 || o.bodySize*o.batch > backend.MaxMessageSize:
		return usageErrorf("--body-size %d: want 1 byte or more, and at most %d bytes per batch", o.bodySize, backend.MaxMessageSize)
	case o.duration < 0 || o.messages < 0:
		return usageErrorf("--duration and --messages must not be negative")
	case o.wait < 0 || o.wait > backend.MaxWaitTimeSeconds:
		return usageErrorf("--wait %d: want 0-%d seconds", o.wait, backend.MaxWaitTimeSeconds)
	}
	if o.duration == 0 && o.messages == 0 {
		o.duration = 10 * time.Second
	}
	t, err := openTarget(ctx, o.flags, arg)
	if err != nil {
		return err
	}
	defer t.Close()
	scratch, err := createScratch(ctx, t)
	if err != nil {
		return err
	}
	res, runErr := benchOn(cmd, o, t, scratch)
	// Delete the scratch queue whatever happened, also after an interrupt
	// (which ended ctx).
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scratchDeleteTimeout)
	defer cancel()
	if err := t.svc.DeleteQueue(dctx, scratch); err != nil {
		return fmt.Errorf("bench: the scratch queue %s could not be deleted (postbox queues delete %s): %w", scratch, scratch, err)
	}
	if runErr != nil {
		return runErr
	}
	res.Queue, res.ScratchQueue = t.url, scratch
	res.Interrupted = ctx.Err() != nil
	out := cmd.OutOrStdout()
	if o.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = printBench(out, res)
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// scratchDeleteTimeout bounds the deletion of the scratch queue once the
// run is over (or interrupted).
const scratchDeleteTimeout = 30 * time.Second

// benchCopiedAttrs are the attributes a scratch queue copies from the
// queue bench is given: the settable ones that shape its behaviour. Not
// copied: RedrivePolicy (bench's messages would be dead-lettered into a
// real queue), RedriveAllowPolicy and Policy (access for others).
var benchCopiedAttrs = []string{
	"VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod", "DelaySeconds",
	"ReceiveMessageWaitTimeSeconds", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
	"FifoThroughputLimit", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
}

// createScratch creates bench's scratch queue next to t's queue, with its
// attributes, and returns its URL.
func createScratch(ctx context.Context, t *target) (string, error) {
	attrs, err := t.svc.GetAttributes(ctx, t.url, []string{"All"})
	if err != nil {
		return "", err
	}
	copied := backend.Attributes{}
	for _, k := range benchCopiedAttrs {
		if v, ok := attrs[k]; ok {
			copied[k] = v
		}
	}
	name := scratchName(t.name, fmt.Sprintf("%08x", rand.Uint32()))
	u, err := t.svc.CreateQueue(ctx, name, copied, nil)
	if err != nil {
		return "", fmt.Errorf("bench: creating its scratch queue %s: %w", name, err)
	}
	return u, nil
}

// scratchName is the name of a scratch queue for the queue name:
// NAME-bench-SUFFIX, .fifo for a FIFO queue, NAME shortened to fit SQS's
// 80 characters.
func scratchName(name, suffix string) string {
	base, fifo := strings.CutSuffix(name, ".fifo")
	tail := "-bench-" + suffix
	if fifo {
		tail += ".fifo"
	}
	if n := backend.MaxQueueNameLength - len(tail); len(base) > n {
		base = base[:n]
	}
	return base + tail
}

// benchOn runs the benchmark on the scratch queue and returns its results.
func benchOn(cmd *cobra.Command, o benchOptions, t *target, scratch string) (benchResult, error) {
	ctx := cmd.Context()
	q, err := t.svc.Queue(scratch)
	if err != nil {
		return benchResult{}, err
	}
	fifo := backend.IsFIFOName(t.name)
	if o.mode == "receive" {
		// Fill the queue with the messages to receive: untimed, not counted.
		fill := o
		fill.mode, fill.duration = "send", 0
		if fill.messages == 0 {
			fill.messages = defaultReceiveMessages
		}
		r := &benchRun{o: fill, q: q, fifo: fifo, body: benchBody(o.bodySize),
			bar: newProgress(cmd.ErrOrStderr(), fill.messages, "bench: filling the scratch queue", "msg")}
		runWorkers(ctx, r)
		r.bar.Finish()
		if ctx.Err() != nil {
			return summarize(o, 0, nil), nil // interrupted before the run
		}
	}
	total := int64(-1)
	if o.messages > 0 {
		total = o.messages
	}
	r := &benchRun{o: o, q: q, fifo: fifo, body: benchBody(o.bodySize),
		bar: newProgress(cmd.ErrOrStderr(), total, "bench "+o.mode, "msg")}
	start := time.Now()
	if o.duration > 0 {
		r.until = start.Add(o.duration)
	}
	workers := runWorkers(ctx, r)
	elapsed := time.Since(start)
	r.bar.Finish()
	return summarize(o, elapsed, workers), nil
}

// defaultReceiveMessages is how many messages receive mode sends first
// when --messages is not given.
const defaultReceiveMessages = 10000

// runWorkers runs r's workers until they are done and returns them.
func runWorkers(ctx context.Context, r *benchRun) []*benchWorker {
	workers := make([]*benchWorker, r.o.concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &benchWorker{r: r, id: i, stats: map[string]*benchStats{}}
		workers[i] = w
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	return workers
}

// benchBody returns a printable body of n bytes.
func benchBody(n int) string {
	const pattern = "postbox-bench-0123456789-abcdefghijklmnopqrstuvwxyz-"
	return strings.Repeat(pattern, n/len(pattern)+1)[:n]
}

// summarize merges the workers' statistics.
func summarize(o benchOptions, elapsed time.Duration, workers []*benchWorker) benchResult {
	merged := map[string]*benchStats{}
	for _, w := range workers {
		for name, s := range w.stats {
			if merged[name] == nil {
				merged[name] = &benchStats{}
			}
			merged[name].merge(s)
		}
	}
	secs := elapsed.Seconds()
	res := benchResult{Mode: o.mode, Concurrency: o.concurrency, Batch: o.batch, BodySize: o.bodySize,
		ElapsedSeconds: secs}
	for _, name := range []string{"send", "receive", "delete"} {
		s := merged[name]
		if s == nil {
			continue
		}
		slices.Sort(s.latencies)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		res.Operations = append(res.Operations, benchOpStats{
			Op: name, Calls: s.calls, Messages: s.messages, Errors: s.errors,
			CallsPerSec: rate(s.calls, secs), Throughput: rate(s.messages, secs),
			LatencyMs: benchLatency{
				P50: ms(percentile(s.latencies, 0.50)), P90: ms(percentile(s.latencies, 0.90)),
				P99: ms(percentile(s.latencies, 0.99)), Max: ms(percentile(s.latencies, 1)),
			},
		})
		res.Errors += s.errors
	}
	primary := map[string]string{"send": "send", "receive": "receive", "cycle": "delete"}[o.mode]
	if s := merged[primary]; s != nil {
		res.Messages = s.messages
	}
	res.Throughput = rate(res.Messages, secs)
	return res
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return math.Round(float64(n)/secs*10) / 10
}

// printBench prints the results as a table.
func printBench(w io.Writer, res benchResult) error {
	what := map[string]string{"send": "sent", "receive": "received and deleted", "cycle": "sent, received and deleted"}[res.Mode]
	fmt.Fprintf(w, "postbox bench --mode %s: %s\non the scratch queue %s (deleted)\nconcurrency %d, batch %d, body %d bytes\n",
		res.Mode, res.Queue, res.ScratchQueue, res.Concurrency, res.Batch, res.BodySize)
	fmt.Fprintf(w, "%d messages %s in %.2fs: %.1f msg/s, %d errors", res.Messages, what, res.ElapsedSeconds, res.Throughput, res.Errors)
	if res.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "OP\tCALLS\tMESSAGES\tERRORS\tCALLS/S\tMSG/S\tP50 ms\tP90 ms\tP99 ms\tMAX ms\t")
	for _, op := range res.Operations {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", op.Op, op.Calls, op.Messages, op.Errors,
			op.CallsPerSec, op.Throughput, op.LatencyMs.P50, op.LatencyMs.P90, op.LatencyMs.P99, op.LatencyMs.Max)
	}
	return tw.Flush()
}
