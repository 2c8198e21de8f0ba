package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/consumer"
)

const requestTimeout = 15 * time.Second

// driver runs the cycles against one postbox serve.
type driver struct {
	cfg  config
	ck   *checker
	svc  *awssqs.Service
	self string // this program, run as the worker
	work string
}

// exitTimeout is how long a worker may take to exit after SIGTERM: its
// ShutdownTimeout (the default) and a margin.
func (d *driver) exitTimeout() time.Duration {
	return consumer.DefaultShutdownTimeout + d.cfg.exitMargin
}

// generation is a pair of queues, a standard and a FIFO one. A cycle that
// leaves messages invisible taints its generation; the next cycle uses a
// new one.
type generation struct {
	n         int
	std, fifo backend.Queue
	nextStd   int
	nextGroup int
	nextSeq   []int // per group
	tainted   bool
}

func (d *driver) newGeneration(ctx context.Context, n int) (*generation, error) {
	g := &generation{n: n, nextSeq: make([]int, d.cfg.groups)}
	vis := strconv.Itoa(int(d.cfg.visibility / time.Second))
	for i, name := range []string{stdQueueName(n), fifoQueueName(n)} {
		attrs := backend.Attributes{"VisibilityTimeout": vis}
		if i == 1 {
			attrs["FifoQueue"] = "true"
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		u, err := d.svc.CreateQueue(rctx, name, attrs, nil)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("creating %s: %w", name, err)
		}
		q, err := d.svc.Queue(u)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			g.std = q
		} else {
			g.fifo = q
		}
	}
	return g, nil
}

// fill sends once to each queue of g whose backlog is below the target:
// a batch of new standard bodies, and a batch of the next FIFO body of
// groups in turn. It reports whether it sent anything. Requests are not
// cancelled midway (their outcome would be unknown, and a FIFO position
// skipped): stopping happens between them.
func (d *driver) fill(ctx context.Context, g *generation) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	ck := d.ck
	sentAny := false
	if n := min(d.cfg.backlog-ck.backlog(stdQueueName(g.n)), backend.MaxBatchEntries); n > 0 {
		bodies := make([]string, n)
		entries := make([]backend.SendEntry, n)
		for i := range n {
			bodies[i] = stdBody(g.n, g.nextStd)
			g.nextStd++
			entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: bodies[i]}
		}
		if err := d.send(ctx, g.std, bodies, entries); err != nil {
			return false, err
		}
		sentAny = true
	}
	if n := min(d.cfg.backlog-ck.backlog(fifoQueueName(g.n)), backend.MaxBatchEntries); n > 0 {
		bodies := make([]string, n)
		entries := make([]backend.SendEntry, n)
		for i := range n {
			grp := g.nextGroup
			g.nextGroup = (g.nextGroup + 1) % d.cfg.groups
			bodies[i] = fifoBody(g.n, grp, g.nextSeq[grp])
			g.nextSeq[grp]++
			entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: bodies[i],
				MessageGroupID: strconv.Itoa(grp), MessageDeduplicationID: bodies[i]}
		}
		if err := d.send(ctx, g.fifo, bodies, entries); err != nil {
			return false, err
		}
		sentAny = true
	}
	return sentAny, nil
}

// send sends one batch; any failure stops the run (on 127.0.0.1 there is
// none to expect).
func (d *driver) send(ctx context.Context, q backend.Queue, bodies []string, entries []backend.SendEntry) error {
	d.ck.issued(bodies)
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	res, err := q.Send(rctx, entries)
	cancel()
	if err != nil {
		return fmt.Errorf("send to %s: %w", q.URL(), err)
	}
	for i := range res {
		if res[i].Err != nil {
			return fmt.Errorf("send to %s: entry %s: %v", q.URL(), res[i].ID, res[i].Err)
		}
	}
	d.ck.sent(queueName(q), bodies)
	return nil
}

// queueName is the last path element of q's URL.
func queueName(q backend.Queue) string {
	u := q.URL()
	return u[strings.LastIndexByte(u, '/')+1:]
}

// produce keeps the backlog of g's queues at the target until ctx ends.
func (d *driver) produce(ctx context.Context, g *generation) error {
	for ctx.Err() == nil {
		sent, err := d.fill(ctx, g)
		if err != nil {
			return err
		}
		if !sent {
			t := time.NewTimer(2 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	return nil
}

// workerProc is one worker child process.
type workerProc struct {
	cmd      *exec.Cmd
	ready    chan struct{} // closed when it printed "ready"
	readDone chan struct{} // closed at the end of its stdout
	done     chan struct{} // closed when it exited
	waitErr  error
	handled  int // lines "h BODY"; read after readDone
	exitLine string
}

// startWorker starts the worker on queues, its stdout read by a goroutine
// that hands every handled body to the checker, its stderr appended to
// worker.log.
func (d *driver) startWorker(label string, seed uint64, queues []backend.Queue) (*workerProc, error) {
	urls := make([]string, len(queues))
	for i, q := range queues {
		urls[i] = q.URL()
	}
	logf, err := os.OpenFile(filepath.Join(d.work, "worker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "== %s\n", label)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	w := &workerProc{ready: make(chan struct{}), readDone: make(chan struct{}), done: make(chan struct{})}
	w.cmd = exec.Command(d.self, "worker", "-queues", strings.Join(urls, ","),
		"-concurrency", strconv.Itoa(d.cfg.concurrency), "-visibility", d.cfg.visibility.String(),
		"-seed", strconv.FormatUint(seed, 10))
	w.cmd.Stdout, w.cmd.Stderr = pw, logf
	err = w.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("starting the worker: %w", err)
	}
	go func() {
		w.waitErr = w.cmd.Wait()
		close(w.done)
	}()
	go func() {
		defer close(w.readDone)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		isReady := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "h "):
				w.handled++
				d.ck.handle(line[2:])
			case line == "ready" && !isReady:
				isReady = true
				close(w.ready)
			case strings.HasPrefix(line, "exit "):
				w.exitLine = line
			}
		}
	}()
	return w, nil
}

// waitReady waits for the worker's "ready".
func (w *workerProc) waitReady(timeout time.Duration) error {
	select {
	case <-w.ready:
		return nil
	case <-w.done:
		return fmt.Errorf("the worker exited (%v) before it was ready; see worker.log", w.waitErr)
	case <-time.After(timeout):
		w.kill()
		return fmt.Errorf("the worker was not ready within %v", timeout)
	}
}

func (w *workerProc) kill() {
	_ = syscall.Kill(w.cmd.Process.Pid, syscall.SIGKILL)
	<-w.done
}

// terminate sends SIGTERM and waits up to timeout for the exit and the end
// of its output. It returns how long the exit took, and a description of
// what was wrong with it ("" if it exited with status 0 in time) with the
// kind of violation.
func (w *workerProc) terminate(timeout time.Duration) (took time.Duration, kind, problem string) {
	t0 := time.Now()
	_ = syscall.Kill(w.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-w.done:
		took = time.Since(t0)
	case <-time.After(timeout):
		took = time.Since(t0)
		w.kill()
		kind, problem = kindExitTimeout, fmt.Sprintf("the worker did not exit within %v of SIGTERM (killed)", timeout)
	}
	<-w.readDone
	if problem == "" && w.waitErr != nil {
		kind, problem = kindWorkerExit, fmt.Sprintf("the worker exited with %v after SIGTERM (%s); see worker.log", w.waitErr, w.exitLine)
	}
	return took, kind, problem
}

// cycleResult is what one cycle saw.
type cycleResult struct {
	ran, exitTook time.Duration
	handled       int
	notVisible    [2]int // standard, FIFO
}

// cycle runs one worker on g under load, stops it with SIGTERM after a
// random moment and checks that it left nothing invisible. An error stops
// the run; violations go to the checker.
func (d *driver) cycle(ctx context.Context, cycle int, g *generation, rng *rand.Rand) (cycleResult, error) {
	var res cycleResult
	// The backlog is there before the worker starts.
	for {
		sent, err := d.fill(ctx, g)
		if err != nil {
			return res, err
		}
		if !sent {
			break
		}
	}
	w, err := d.startWorker("cycle "+strconv.Itoa(cycle), d.cfg.seed^uint64(cycle)<<32, []backend.Queue{g.std, g.fifo})
	if err != nil {
		return res, err
	}
	if err := w.waitReady(d.cfg.startTimeout); err != nil {
		return res, err
	}
	pctx, stopProducing := context.WithCancel(ctx)
	var prodErr error
	var wg sync.WaitGroup
	wg.Go(func() { prodErr = d.produce(pctx, g) })

	res.ran = d.cfg.minWait + time.Duration(rng.Int64N(int64(d.cfg.maxWait-d.cfg.minWait)+1))
	t := time.NewTimer(res.ran)
	select {
	case <-t.C:
	case <-w.done:
		t.Stop()
	}
	took, kind, problem := w.terminate(d.exitTimeout())
	res.exitTook, res.handled = took, w.handled
	// The check, at once: the producer only sends, which changes nothing
	// that is not visible.
	res.notVisible, err = d.notVisible(ctx, g.std, g.fifo)
	stopProducing()
	wg.Wait()
	if problem != "" {
		d.ck.report(kind, "%s", problem)
	}
	if err != nil {
		return res, err
	}
	if prodErr != nil {
		return res, prodErr
	}
	names := []string{stdQueueName(g.n), fifoQueueName(g.n)}
	for _, v := range invisibleViolations(names, res.notVisible[:]) {
		d.ck.report(kindInvisible, "%s", v)
		g.tainted = true
	}
	return res, nil
}

// notVisible returns ApproximateNumberOfMessagesNotVisible of each queue.
func (d *driver) notVisible(ctx context.Context, qs ...backend.Queue) ([2]int, error) {
	var out [2]int
	for i, q := range qs {
		a, err := d.attrs(ctx, q)
		if err != nil {
			return out, err
		}
		out[i] = a[1]
	}
	return out, nil
}

// attrs returns a queue's visible, not visible and delayed counts.
func (d *driver) attrs(ctx context.Context, q backend.Queue) ([3]int, error) {
	var out [3]int
	names := []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	a, err := d.svc.GetAttributes(rctx, q.URL(), names)
	cancel()
	if err != nil {
		return out, fmt.Errorf("attributes of %s: %w", q.URL(), err)
	}
	for i, n := range names {
		v, err := strconv.Atoi(a[n])
		if err != nil {
			return out, fmt.Errorf("attributes of %s: %s=%q", q.URL(), n, a[n])
		}
		out[i] = v
	}
	return out, nil
}

// drain runs one more worker on every queue of every generation, with no
// more sends, until all of them are empty (nothing visible, in flight or
// delayed), then stops it with SIGTERM and checks once more that nothing
// is left invisible. Messages left invisible by earlier cycles come back
// after the visibility timeout, so this can take that long.
func (d *driver) drain(ctx context.Context, gens []*generation) error {
	var qs []backend.Queue
	for _, g := range gens {
		qs = append(qs, g.std, g.fifo)
	}
	began := time.Now()
	w, err := d.startWorker("final drain", d.cfg.seed^0xd4a1, qs)
	if err != nil {
		return err
	}
	if err := w.waitReady(d.cfg.startTimeout); err != nil {
		return err
	}
	deadline := time.Now().Add(d.cfg.drainTimeout)
	var left []string
	for {
		left = left[:0]
		for _, q := range qs {
			a, err := d.attrs(ctx, q)
			if err != nil {
				w.kill()
				return err
			}
			if a != [3]int{} {
				left = append(left, fmt.Sprintf("%s visible=%d not-visible=%d delayed=%d", queueName(q), a[0], a[1], a[2]))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		d.ck.report(kindDrainTimeout, "queues not empty after %v: %s", d.cfg.drainTimeout, strings.Join(left, ", "))
	}
	_, kind, problem := w.terminate(d.exitTimeout())
	if problem != "" {
		d.ck.report(kind, "%s", problem)
	}
	if len(left) == 0 {
		for _, q := range qs {
			a, err := d.attrs(ctx, q)
			if err != nil {
				return err
			}
			if v := invisibleViolations([]string{queueName(q)}, []int{a[1]}); v != nil {
				d.ck.report(kindInvisible, "%s", v[0])
			}
		}
	}
	fmt.Printf("shutdownchaos: final drain of %d queue(s) took %v, handled %d\n", len(qs), time.Since(began).Round(time.Millisecond), w.handled)
	if ctx.Err() != nil {
		return errors.New("the run took longer than -timeout")
	}
	return nil
}
