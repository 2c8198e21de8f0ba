package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

// peekOptions are the flags of postbox peek.
type peekOptions struct {
	flags  clientFlags
	max    int
	after  string
	asJSON bool
	token  string
}

// peekPage is the most messages one peek call asks for.
const peekPage = 100

// peeked is a message as peek shows it.
type peeked struct {
	msg   backend.Message
	state string // visible, inflight or delayed
}

// errAWSPeek is the answer to a peek at AWS SQS.
var errAWSPeek = errors.New("peek: AWS SQS cannot show messages without receiving them " +
	"(a receive hides them and counts towards maxReceiveCount); " +
	"peek works on postbox serve, file:// and mem:// queues. " +
	"On AWS, 'postbox receive QUEUE --visibility 0' receives and leaves messages visible")

func newPeekCmd() *cobra.Command {
	var o peekOptions
	cmd := &cobra.Command{
		Use:   "peek QUEUE",
		Short: "Look at messages without receiving them",
		Long: `Print up to --max of a queue's messages, oldest first, visible, in flight and
delayed alike, without changing anything: no visibility timeout starts, no
receive count grows, FIFO groups stay unlocked. Each message shows its state
(visible, inflight or delayed) and receive count.

Peek works on the native engine: file:// and mem:// queues directly, and
queues of postbox serve through its dashboard's JSON API
(GET /_postbox/api/queues/NAME/messages; serve runs with the dashboard on by
default). A server with credentials opens its dashboard to loopback clients,
or to others with its --ui-token: pass the same with --ui-token or
$POSTBOX_UI_TOKEN. AWS SQS has no way to look without receiving: against AWS, peek
fails with a message that says so.

--after ID continues after the message with that id (the last one of the
previous listing). --json prints one JSON object per line, as receive --json
does, with a "state" field and no receipt handle.

` + queueArgHelp,
		Example: `  postbox peek jobs --endpoint http://127.0.0.1:9324
  postbox peek 'file:///var/lib/postbox?queue=jobs' --max 50
  postbox peek jobs-dlq --json | jq -r .body`,
		Args: exactArgs(1, "a QUEUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPeek(cmd, o, args[0])
		},
	}
	o.flags.add(cmd)
	f := cmd.Flags()
	f.IntVarP(&o.max, "max", "n", 10, "the most messages to show")
	f.StringVar(&o.after, "after", "", "start after the message with this id")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per message and line")
	f.StringVar(&o.token, "ui-token", "", "postbox serve's --ui-token, for a server with credentials reached from another host (default $POSTBOX_UI_TOKEN)")
	return cmd
}

func runPeek(cmd *cobra.Command, o peekOptions, arg string) error {
	ctx := cmd.Context()
	if o.max < 1 {
		return usageErrorf("--max %d: want at least 1", o.max)
	}
	if o.token == "" {
		o.token = os.Getenv("POSTBOX_UI_TOKEN")
	}
	t, err := openTarget(ctx, o.flags, arg)
	if err != nil {
		return err
	}
	defer t.Close()
	var page func(ctx context.Context, max int, after string) ([]peeked, error)
	switch {
	case t.kind == kindEngine:
		eng, ok := t.svc.(enginePeeker)
		if !ok {
			return fmt.Errorf("peek: %s is served by no engine that can peek", t.url)
		}
		page = func(ctx context.Context, max int, after string) ([]peeked, error) {
			ms, err := eng.Peek(ctx, t.url, native.PeekRequest{Max: max, After: after})
			if err != nil {
				return nil, err
			}
			out := make([]peeked, len(ms))
			for i, m := range ms {
				out[i] = peeked{msg: m.Message, state: m.State}
			}
			return out, nil
		}
	case t.aws:
		return errAWSPeek
	default:
		page = func(ctx context.Context, max int, after string) ([]peeked, error) {
			return peekHTTP(ctx, t.endpoint, o.token, t.name, max, after)
		}
	}

	out := cmd.OutOrStdout()
	shown, after := 0, o.after
	for shown < o.max {
		want := min(peekPage, o.max-shown)
		ms, err := page(ctx, want, after)
		if err != nil {
			return err
		}
		for _, p := range ms {
			shown++
			if o.asJSON {
				jm := toJSONMessage(&p.msg)
				jm.State = p.state
				b, err := json.Marshal(jm)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s\n", b)
				continue
			}
			m := p.msg
			m.Attributes = mapsWith(m.Attributes, "State", p.state)
			if err := writeMessageText(out, &m, shown); err != nil {
				return err
			}
		}
		if len(ms) < want {
			break
		}
		after = ms[len(ms)-1].msg.MessageID
	}
	if shown == 0 && !o.asJSON {
		fmt.Fprintln(cmd.ErrOrStderr(), "no messages")
	}
	return nil
}

// mapsWith returns a copy of m with k set to v.
func mapsWith(m map[string]string, k, v string) map[string]string {
	c := maps.Clone(m)
	if c == nil {
		c = map[string]string{}
	}
	c[k] = v
	return c
}

// httpPeekMessage is a message of the dashboard API's peek answer.
type httpPeekMessage struct {
	MessageID         string                          `json:"messageId"`
	Body              string                          `json:"body"`
	Attributes        map[string]string               `json:"attributes"`
	MessageAttributes map[string]jsonMessageAttribute `json:"messageAttributes"`
	SentTimestamp     json.RawMessage                 `json:"sentTimestamp"`
	ReceiveCount      int                             `json:"receiveCount"`
	State             string                          `json:"state"`
}

// peekHTTP asks postbox serve's dashboard API for a page of messages.
func peekHTTP(ctx context.Context, endpoint, token, name string, max int, after string) ([]peeked, error) {
	q := url.Values{"max": {strconv.Itoa(max)}}
	if after != "" {
		q.Set("after", after)
	}
	u := strings.TrimSuffix(endpoint, "/") + "/_postbox/api/queues/" + url.PathEscape(name) + "/messages?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, backend.NewError(backend.CodeServiceUnavailable, "peek: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			if e := apiError(body); e != nil {
				return nil, e
			}
		}
		return nil, fmt.Errorf("peek: %s has no peek API (GET /_postbox/api/queues/%s/messages answered %s): "+
			"peek needs postbox serve with its dashboard on (--ui, the default)", endpoint, name, resp.Status)
	}
	var answer struct {
		Messages []httpPeekMessage `json:"messages"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("peek: %s: the answer is not the peek API's JSON: %w", u, err)
	}
	out := make([]peeked, len(answer.Messages))
	for i, m := range answer.Messages {
		msg := backend.Message{MessageID: m.MessageID, Body: m.Body, Attributes: m.Attributes}
		if msg.Attributes == nil {
			msg.Attributes = map[string]string{}
		}
		if _, ok := msg.Attributes["ApproximateReceiveCount"]; !ok {
			msg.Attributes["ApproximateReceiveCount"] = strconv.Itoa(m.ReceiveCount)
		}
		if _, ok := msg.Attributes["SentTimestamp"]; !ok && len(m.SentTimestamp) > 0 {
			var ts any
			if json.Unmarshal(m.SentTimestamp, &ts) == nil {
				switch v := ts.(type) {
				case float64:
					msg.Attributes["SentTimestamp"] = strconv.FormatInt(int64(v), 10)
				case string:
					msg.Attributes["SentTimestamp"] = v
				}
			}
		}
		if len(m.MessageAttributes) > 0 {
			msg.MessageAttributes = make(map[string]backend.MessageAttributeValue, len(m.MessageAttributes))
			for k, v := range m.MessageAttributes {
				msg.MessageAttributes[k] = backend.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
			}
		}
		out[i] = peeked{msg: msg, state: m.State}
	}
	return out, nil
}

// apiError decodes a JSON error answer of the dashboard API, which carries
// an SQS code; nil when body is not one.
func apiError(body []byte) *backend.Error {
	var e struct {
		Code    string `json:"code"`
		Type    string `json:"__type"`
		Message string `json:"message"`
		Error   any    `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	if nested, ok := e.Error.(map[string]any); ok {
		if c, ok := nested["code"].(string); ok {
			e.Code = c
		}
		if m, ok := nested["message"].(string); ok {
			e.Message = m
		}
	} else if s, ok := e.Error.(string); ok && e.Message == "" {
		e.Message = s
	}
	code := e.Code
	if code == "" {
		code = e.Type[strings.LastIndexByte(e.Type, '#')+1:]
	}
	if code == "" {
		return nil
	}
	if info, ok := backend.LookupQueryCode(code); ok {
		code = info.Code
	}
	return &backend.Error{Code: code, Message: e.Message}
}
