package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// memResult is what mem prints.
type memResult struct {
	Messages         int     `json:"messages"`
	Size             int     `json:"size"`
	GOGC             string  `json:"gogc"`
	RSSBeforeKiB     int     `json:"rss_before_kib"`
	RSSAfterKiB      int     `json:"rss_after_kib"`
	HeapBeforeMB     int     `json:"live_heap_before_mb"`
	HeapAfterMB      int     `json:"live_heap_after_mb"`
	RSSPerMsg        float64 `json:"rss_bytes_per_msg"`
	RSSBeyondBody    float64 `json:"rss_bytes_per_msg_beyond_body"`
	HeapPerMsg       float64 `json:"heap_bytes_per_msg"`
	HeapBeyondBody   float64 `json:"heap_bytes_per_msg_beyond_body"`
	GCsDuringFill    int     `json:"gcs_during_fill"`
	HeapResolutionMB int     `json:"heap_resolution_mb"`
}

// gcLine matches gctrace's "A->B->C MB" (heap at start, at end, live).
var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// listenLine matches serve's "listening" log line.
var listenLine = regexp.MustCompile(`endpoint=(http://127\.0\.0\.1:\d+)`)

// heapWatch follows a server's stderr: its endpoint and the live heap of
// its latest GC.
type heapWatch struct {
	mu       sync.Mutex
	endpoint string
	gcs      int
	liveMB   int
	ready    chan struct{}
}

func (h *heapWatch) follow(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		h.mu.Lock()
		if m := listenLine.FindStringSubmatch(line); m != nil && h.endpoint == "" {
			h.endpoint = m[1]
			close(h.ready)
		}
		if strings.HasPrefix(line, "gc ") {
			if m := gcLine.FindStringSubmatch(line); m != nil {
				h.gcs++
				h.liveMB, _ = strconv.Atoi(m[3])
			}
		}
		h.mu.Unlock()
	}
}

func (h *heapWatch) snapshot() (gcs, liveMB int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gcs, h.liveMB
}

func runMem(args []string) error {
	fs := flag.NewFlagSet("mem", flag.ExitOnError)
	bin := fs.String("postbox", "", "postbox binary")
	n := fs.Int("n", 100000, "messages to queue")
	size := fs.Int("size", 256, "body size in bytes")
	gogc := fs.String("gogc", "1", "GOGC of the server (1: collect after 1% growth, so the heap holds almost no garbage)")
	settle := fs.Duration("settle", 3*time.Second, "wait before each reading")
	fs.Parse(args)
	if *bin == "" {
		return errors.New("-postbox is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The serve log (its "listening" line) and the gctrace lines both go to
	// stderr.
	cmd := exec.Command(*bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GOGC="+*gogc, "GODEBUG=gctrace=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	h := &heapWatch{ready: make(chan struct{})}
	go h.follow(stderr)
	select {
	case <-h.ready:
	case <-time.After(10 * time.Second):
		return errors.New("postbox serve did not report its endpoint")
	}
	pid := cmd.Process.Pid

	svc, err := awssqs.OpenEndpoint(ctx, h.endpoint)
	if err != nil {
		return err
	}
	defer svc.Close()
	url, err := svc.CreateQueue(ctx, "mem", nil, nil)
	if err != nil {
		return err
	}
	q, qsvc, err := backend.Open(ctx, url)
	if err != nil {
		return err
	}
	defer qsvc.Close()
	// Warm up the server's request path (connections, pools, the queue's
	// first allocations) with a few messages, then take them out again.
	if err := fill(ctx, q, 100, *size, 4); err != nil {
		return err
	}
	if err := svc.Purge(ctx, url); err != nil {
		return err
	}

	time.Sleep(*settle)
	rssBefore, err := vmRSS(pid)
	if err != nil {
		return err
	}
	gcsBefore, heapBefore := h.snapshot()
	if err := fill(ctx, q, *n, *size, 8); err != nil {
		return err
	}
	time.Sleep(*settle)
	rssAfter, err := vmRSS(pid)
	if err != nil {
		return err
	}
	gcsAfter, heapAfter := h.snapshot()
	attrs, err := svc.GetAttributes(ctx, url, []string{"ApproximateNumberOfMessages"})
	if err != nil {
		return err
	}
	if attrs["ApproximateNumberOfMessages"] != strconv.Itoa(*n) {
		return fmt.Errorf("queue holds %s messages, want %d", attrs["ApproximateNumberOfMessages"], *n)
	}
	rssPer := float64(rssAfter-rssBefore) * 1024 / float64(*n)
	heapPer := float64(heapAfter-heapBefore) * (1 << 20) / float64(*n)
	return printJSON(memResult{
		Messages: *n, Size: *size, GOGC: *gogc,
		RSSBeforeKiB: rssBefore, RSSAfterKiB: rssAfter,
		HeapBeforeMB: heapBefore, HeapAfterMB: heapAfter,
		RSSPerMsg: rssPer, RSSBeyondBody: rssPer - float64(*size),
		HeapPerMsg: heapPer, HeapBeyondBody: heapPer - float64(*size),
		GCsDuringFill: gcsAfter - gcsBefore, HeapResolutionMB: 1,
	})
}

// vmRSS reads a process's resident set size in KiB from /proc.
func vmRSS(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
