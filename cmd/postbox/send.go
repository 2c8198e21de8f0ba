package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
)

// sendOptions are the flags of postbox send.
type sendOptions struct {
	flags   clientFlags
	file    string
	lines   bool
	attrs   []string
	group   string
	dedupID string
	delay   optionalSeconds
	// concurrency is how many batches --lines keeps in flight.
	concurrency int
}

func newSendCmd() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send QUEUE [BODY | -]",
		Short: "Send a message, or every line of a file or stdin as a message",
		Long: `Send a message whose body is the BODY argument, stdin (BODY "-") or a file
(--file), and print its message id.

With --lines, every non-empty line of the input is one message (a trailing
"\r" is dropped), sent in SendMessageBatch calls of up to 10 messages,
--concurrency calls at a time (one at a time on a FIFO queue, which keeps
the lines' order); it prints how many were sent. On a terminal a live counter shows progress. A
message that fails is reported on stderr with its line number and the SQS
code, the others are still sent, and the exit code is 3. With --dedup-id,
each line's deduplication id is the value given, "-" and the line number.

Message attributes: --attr NAME=VALUE sends a String attribute;
--attr NAME:Number=42 or NAME:Binary=BASE64 (or a custom type such as
Number.int) gives the data type.

` + queueArgHelp,
		Example: `  postbox send jobs 'hello world' --endpoint http://127.0.0.1:9324
  echo '{"id": 7}' | postbox send jobs -
  postbox send jobs --file payload.json --attr kind=resize --attr size:Number=42
  postbox send jobs --lines --file events.ndjson
  postbox send orders.fifo 'order 1' --group customer-9 --dedup-id order-1
  postbox send jobs 'later' --delay 60`,
		Args: rangeArgs(1, 2, "a QUEUE and a BODY (or - for stdin, or --file)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSend(cmd, o, args)
		},
	}
	o.flags.add(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "read the body (or, with --lines, the messages) from this file")
	f.BoolVar(&o.lines, "lines", false, "send every non-empty line of the input as a message, in batches of 10")
	f.StringArrayVar(&o.attrs, "attr", nil, "message attribute NAME=VALUE (String) or NAME:TYPE=VALUE (Number, Binary as base64); repeatable")
	f.StringVar(&o.group, "group", "", "message group id (required on FIFO queues)")
	f.StringVar(&o.dedupID, "dedup-id", "", "message deduplication id (FIFO queues without content-based deduplication)")
	f.IntVarP(&o.concurrency, "concurrency", "c", 4, "with --lines: batches in flight at once (FIFO queues: always 1, to keep order)")
	f.Var(&o.delay, "delay", "seconds (0-900) before the message can be received (default: the queue's DelaySeconds)")
	return cmd
}

// sendInput returns the reader of the message input.
func sendInput(cmd *cobra.Command, o sendOptions, args []string) (io.Reader, func(), error) {
	none := func() {}
	switch {
	case len(args) == 2 && o.file != "":
		return nil, none, usageErrorf("give a BODY argument or --file, not both")
	case len(args) == 2 && args[1] == "-":
		return cmd.InOrStdin(), none, nil
	case len(args) == 2:
		return strings.NewReader(args[1]), none, nil
	case o.file != "":
		f, err := os.Open(o.file)
		if err != nil {
			return nil, none, err
		}
		return f, func() { f.Close() }, nil
	}
	return nil, none, usageErrorf("no message: give a BODY argument, - for stdin, or --file PATH")
}

func runSend(cmd *cobra.Command, o sendOptions, args []string) error {
	ctx := cmd.Context()
	attrs, err := parseMessageAttrs(o.attrs)
	if err != nil {
		return err
	}
	if o.concurrency < 1 {
		return usageErrorf("--concurrency %d: want at least 1", o.concurrency)
	}
	if o.delay.v != nil && *o.delay.v > backend.MaxDelaySeconds {
		return usageErrorf("--delay %d: want 0-%d seconds", *o.delay.v, backend.MaxDelaySeconds)
	}
	in, closeIn, err := sendInput(cmd, o, args)
	if err != nil {
		return err
	}
	defer closeIn()
	entry := func(id, body, dedup string) backend.SendEntry {
		e := backend.SendEntry{ID: id, Body: body, MessageAttributes: attrs, MessageGroupID: o.group, MessageDeduplicationID: dedup}
		e.DelaySeconds = o.delay.v
		return e
	}

	t, err := openTargetIn(ctx, o.flags, args[0], true) // sending may make a file:// directory
	if err != nil {
		return err
	}
	defer t.Close()
	q, err := t.queue()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()

	if !o.lines {
		body, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		res, err := q.Send(ctx, []backend.SendEntry{entry("0", string(body), o.dedupID)})
		if err != nil {
			return err
		}
		if res[0].Err != nil {
			return res[0].Err
		}
		fmt.Fprintln(out, res[0].MessageID)
		return nil
	}

	workers := o.concurrency
	if backend.IsFIFOName(t.name) {
		workers = 1 // one batch at a time keeps each group's order
	}
	s := newLineSender(ctx, q, workers, cmd.ErrOrStderr())
	r := bufio.NewReaderSize(in, 64<<10)
	var readErr error
	for lineNo := 1; readErr == nil; lineNo++ {
		var line string
		line, readErr = r.ReadString('\n')
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			break
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			continue
		}
		dedup := ""
		if o.dedupID != "" {
			dedup = o.dedupID + "-" + strconv.Itoa(lineNo)
		}
		if !s.add(entry(strconv.Itoa(lineNo), line, dedup)) {
			break // a request failed; finish reports it
		}
	}
	sent, failed, err := s.finish()
	if err == nil && readErr != nil && !errors.Is(readErr, io.EOF) {
		err = readErr
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "postbox: %d messages sent before the error\n", sent)
		return err
	}
	fmt.Fprintf(out, "sent %d messages to %s\n", sent, t.url)
	if failed > 0 {
		return partialError{failed: failed, total: sent + failed, what: "messages"}
	}
	return nil
}

// lineSender sends messages in batches of up to 10 entries and
// backend.MaxMessageSize bytes, with up to a given number of batches in
// flight. The first request that fails as a whole stops it.
type lineSender struct {
	q      backend.Queue
	ctx    context.Context
	cancel context.CancelFunc
	batch  []backend.SendEntry
	bytes  int
	jobs   chan []backend.SendEntry
	wg     sync.WaitGroup

	mu           sync.Mutex // guards the fields below and errOut
	errOut       io.Writer
	bar          *progress
	sent, failed int
	err          error
}

func newLineSender(ctx context.Context, q backend.Queue, workers int, errOut io.Writer) *lineSender {
	ctx, cancel := context.WithCancel(ctx)
	s := &lineSender{q: q, ctx: ctx, cancel: cancel, jobs: make(chan []backend.SendEntry), errOut: errOut,
		bar: newProgress(errOut, -1, "sending", "msg")}
	for range max(1, workers) {
		s.wg.Go(s.work)
	}
	return s
}

// work sends batches until the jobs end.
func (s *lineSender) work() {
	for b := range s.jobs {
		if s.ctx.Err() != nil {
			continue
		}
		res, err := s.q.Send(s.ctx, b)
		s.mu.Lock()
		if err != nil {
			if s.err == nil {
				s.err = err
			}
			s.cancel()
			s.mu.Unlock()
			continue
		}
		for _, r := range res {
			if r.Err != nil {
				s.failed++
				fmt.Fprintf(s.errOut, "postbox: line %s: %s\n", r.ID, sqsErrorText(r.Err))
				continue
			}
			s.sent++
		}
		s.bar.Add(len(res))
		s.mu.Unlock()
	}
}

// add queues an entry; false means sending has stopped.
func (s *lineSender) add(e backend.SendEntry) bool {
	size := entrySize(&e)
	if len(s.batch) == backend.MaxBatchEntries || (len(s.batch) > 0 && s.bytes+size > backend.MaxMessageSize) {
		if !s.flush() {
			return false
		}
	}
	s.batch = append(s.batch, e)
	s.bytes += size
	return true
}

// flush hands the current batch to a worker.
func (s *lineSender) flush() bool {
	if len(s.batch) == 0 {
		return true
	}
	select {
	case s.jobs <- s.batch:
		s.batch, s.bytes = nil, 0
		return true
	case <-s.ctx.Done():
		return false
	}
}

// finish sends what is left, waits for the workers and returns the
// counts and the first request error (or the context's).
func (s *lineSender) finish() (sent, failed int, err error) {
	s.flush()
	close(s.jobs)
	s.wg.Wait()
	s.bar.Finish()
	err = s.err
	if err == nil {
		err = s.ctx.Err()
	}
	s.cancel()
	return s.sent, s.failed, err
}

// entrySize is what an entry counts towards a batch's size limit.
func entrySize(e *backend.SendEntry) int {
	n := len(e.Body)
	for k, v := range e.MessageAttributes {
		n += len(k) + len(v.DataType) + len(v.StringValue) + len(v.BinaryValue)
	}
	return n
}
