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
}

func newSendCmd() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send QUEUE [BODY | -]",
		Short: "Send a message, or every line of a file or stdin as a message",
		Long: `Send a message whose body is the BODY argument, stdin (BODY "-") or a file
(--file), and print its message id.

With --lines, every non-empty line of the input is one message (a trailing
"\r" is dropped), sent in SendMessageBatch calls of up to 10 messages; it
prints how many were sent. On a terminal a live counter shows progress. A
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

	t, err := openTarget(ctx, o.flags, args[0])
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

	s := &lineSender{q: q, errOut: cmd.ErrOrStderr(), bar: newProgress(cmd.ErrOrStderr(), -1, "sending", "msg")}
	defer s.bar.Finish()
	r := bufio.NewReaderSize(in, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, rerr := r.ReadString('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line != "" {
			dedup := ""
			if o.dedupID != "" {
				dedup = o.dedupID + "-" + strconv.Itoa(lineNo)
			}
			if err := s.add(ctx, entry(strconv.Itoa(lineNo), line, dedup)); err != nil {
				return s.abort(err)
			}
		}
		if rerr != nil {
			break
		}
	}
	if err := s.flush(ctx); err != nil {
		return s.abort(err)
	}
	s.bar.Finish()
	fmt.Fprintf(out, "sent %d messages to %s\n", s.sent, t.display())
	if s.failed > 0 {
		return partialError{failed: s.failed, total: s.sent + s.failed, what: "messages"}
	}
	return nil
}

// lineSender sends messages in batches of up to 10 entries and
// backend.MaxMessageSize bytes.
type lineSender struct {
	q            backend.Queue
	errOut       io.Writer
	bar          *progress
	batch        []backend.SendEntry
	bytes        int
	sent, failed int
}

// entrySize is what an entry counts towards a batch's size limit.
func entrySize(e *backend.SendEntry) int {
	n := len(e.Body)
	for k, v := range e.MessageAttributes {
		n += len(k) + len(v.DataType) + len(v.StringValue) + len(v.BinaryValue)
	}
	return n
}

func (s *lineSender) add(ctx context.Context, e backend.SendEntry) error {
	size := entrySize(&e)
	if len(s.batch) == backend.MaxBatchEntries || (len(s.batch) > 0 && s.bytes+size > backend.MaxMessageSize) {
		if err := s.flush(ctx); err != nil {
			return err
		}
	}
	s.batch = append(s.batch, e)
	s.bytes += size
	return nil
}

func (s *lineSender) flush(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	res, err := s.q.Send(ctx, s.batch)
	if err != nil {
		return err
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
	s.batch, s.bytes = s.batch[:0], 0
	return nil
}

// abort reports how far sending got before a request failed as a whole.
func (s *lineSender) abort(err error) error {
	s.bar.Finish()
	fmt.Fprintf(s.errOut, "postbox: %d messages sent before the error\n", s.sent)
	return err
}
