package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
)

// receiveOptions are the flags of postbox receive.
type receiveOptions struct {
	flags      clientFlags
	max        int
	wait       optionalSeconds
	visibility optionalSeconds
	delete     bool
	asJSON     bool
}

func newReceiveCmd() *cobra.Command {
	var o receiveOptions
	cmd := &cobra.Command{
		Use:   "receive QUEUE",
		Short: "Receive messages, and optionally delete them",
		Long: `Receive up to --max messages and print them. Received messages become
invisible for the visibility timeout (the queue's, or --visibility) and are
received again after it unless --delete deletes them once printed.

Receives run in calls of up to 10 messages until --max messages have come or
a call returns none; each call waits up to --wait seconds for a message
(the queue's ReceiveMessageWaitTimeSeconds by default).

--json prints one JSON object per line, for scripts:

  {"id":"...","body":"...","receiptHandle":"...","md5OfBody":"...",
   "attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"..."},
   "messageAttributes":{"kind":{"dataType":"String","stringValue":"resize"}}}

(a Binary attribute has "binaryValue", base64). With --delete a message
whose delete fails is reported on stderr and the exit code is 3.

` + queueArgHelp,
		Example: `  postbox receive jobs --endpoint http://127.0.0.1:9324
  postbox receive jobs --max 100 --wait 5 --delete
  postbox receive jobs --json --max 10 | jq -r .body
  postbox receive jobs --visibility 0   # look, and leave the message visible`,
		Args: exactArgs(1, "a QUEUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReceive(cmd, o, args[0])
		},
	}
	o.flags.add(cmd)
	f := cmd.Flags()
	f.IntVarP(&o.max, "max", "n", 1, "the most messages to receive")
	f.Var(&o.wait, "wait", "seconds (0-20) each call waits for a message (default: the queue's ReceiveMessageWaitTimeSeconds)")
	f.Var(&o.visibility, "visibility", "visibility timeout in seconds, 0-43200 (default: the queue's VisibilityTimeout)")
	f.BoolVar(&o.delete, "delete", false, "delete each message after printing it")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per message and line")
	return cmd
}

func runReceive(cmd *cobra.Command, o receiveOptions, arg string) error {
	ctx := cmd.Context()
	switch {
	case o.max < 1:
		return usageErrorf("--max %d: want at least 1", o.max)
	case o.wait.v != nil && *o.wait.v > backend.MaxWaitTimeSeconds:
		return usageErrorf("--wait %d: want 0-%d seconds", *o.wait.v, backend.MaxWaitTimeSeconds)
	case o.visibility.v != nil && *o.visibility.v > backend.MaxVisibilityTimeout:
		return usageErrorf("--visibility %d: want 0-%d seconds", *o.visibility.v, backend.MaxVisibilityTimeout)
	}
	t, err := openTarget(ctx, o.flags, arg)
	if err != nil {
		return err
	}
	defer t.Close()
	q, err := t.queue()
	if err != nil {
		return err
	}
	req := backend.ReceiveRequest{
		SystemAttributeNames:  []string{"All"},
		MessageAttributeNames: []string{"All"},
	}
	req.WaitTimeSeconds = o.wait.v
	req.VisibilityTimeout = o.visibility.v
	out := cmd.OutOrStdout()
	got, deleted, failed := 0, 0, 0
	for got < o.max {
		req.MaxMessages = min(backend.MaxReceiveMessages, o.max-got)
		msgs, err := q.Receive(ctx, req)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			break
		}
		got += len(msgs)
		for i, m := range msgs {
			if o.asJSON {
				err = writeMessageJSON(out, m)
			} else {
				err = writeMessageText(out, m, got-len(msgs)+i+1)
			}
			if err != nil {
				return err
			}
		}
		if !o.delete {
			continue
		}
		entries := make([]backend.DeleteEntry, len(msgs))
		for i, m := range msgs {
			entries[i] = backend.DeleteEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle}
		}
		res, err := q.Delete(ctx, entries)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				failed++
				fmt.Fprintf(cmd.ErrOrStderr(), "postbox: deleting message %s: %s\n", msgs[i].MessageID, sqsErrorText(r.Err))
				continue
			}
			deleted++
		}
	}
	if got == 0 && !o.asJSON {
		fmt.Fprintln(cmd.ErrOrStderr(), "no messages")
	}
	if failed > 0 {
		return partialError{failed: failed, total: got, what: "deletes"}
	}
	return nil
}

// jsonMessage is a message as receive --json and peek --json print it.
type jsonMessage struct {
	ID                string                          `json:"id"`
	Body              string                          `json:"body"`
	ReceiptHandle     string                          `json:"receiptHandle,omitempty"`
	MD5OfBody         string                          `json:"md5OfBody,omitempty"`
	State             string                          `json:"state,omitempty"`
	Attributes        map[string]string               `json:"attributes,omitempty"`
	MessageAttributes map[string]jsonMessageAttribute `json:"messageAttributes,omitempty"`
}

// jsonMessageAttribute is a message attribute in JSON output.
type jsonMessageAttribute struct {
	DataType    string `json:"dataType"`
	StringValue string `json:"stringValue,omitempty"`
	BinaryValue []byte `json:"binaryValue,omitempty"`
}

func toJSONMessage(m *backend.Message) jsonMessage {
	jm := jsonMessage{ID: m.MessageID, Body: m.Body, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Attributes: m.Attributes}
	if len(m.MessageAttributes) > 0 {
		jm.MessageAttributes = make(map[string]jsonMessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			jm.MessageAttributes[k] = jsonMessageAttribute{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
		}
	}
	return jm
}

func writeMessageJSON(w io.Writer, m *backend.Message) error {
	b, err := json.Marshal(toJSONMessage(m))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeMessageText prints a message for people: a header line, its
// attributes, and the body.
func writeMessageText(w io.Writer, m *backend.Message, n int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- message %d: %s\n", n, m.MessageID)
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		v := m.Attributes[k]
		if strings.HasSuffix(k, "Timestamp") {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				v += " (" + time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) + ")"
			}
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	for _, k := range slices.Sorted(maps.Keys(m.MessageAttributes)) {
		v := m.MessageAttributes[k]
		val := v.StringValue
		if v.BinaryValue != nil {
			val = base64.StdEncoding.EncodeToString(v.BinaryValue)
		}
		fmt.Fprintf(&b, "attribute %s (%s): %s\n", k, v.DataType, val)
	}
	if m.ReceiptHandle != "" {
		fmt.Fprintf(&b, "ReceiptHandle: %s\n", m.ReceiptHandle)
	}
	fmt.Fprintf(&b, "\n%s\n", m.Body)
	_, err := io.WriteString(w, b.String())
	return err
}
