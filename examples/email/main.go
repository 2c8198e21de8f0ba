// Command email renders typed e-mail jobs with text/template into .eml
// files: a producer enqueues welcome, receipt and password-reset jobs, and a
// worker pool decodes each by its kind, renders it and writes it to the
// output folder, where any mail client opens it.
//
//	go run ./examples/email                  # 30 jobs into a temporary folder
//	go run ./examples/email -n 100 -out ./mail
//
// A job of a kind nobody handles is a permanent failure: retrying cannot
// help, so the OnPermanent hook files it under out/dead/ and the message is
// deleted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/native" // serves mem:// URLs
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "email:", err)
		os.Exit(1)
	}
}

// envelope is the body of every message: the job's kind and its payload.
type envelope struct {
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// The typed jobs.
type (
	// Welcome greets a new user.
	Welcome struct {
		To   string `json:"to"`
		Name string `json:"name"`
	}
	// Receipt confirms an order.
	Receipt struct {
		To      string `json:"to"`
		Name    string `json:"name"`
		OrderID string `json:"order_id"`
		Items   []Item `json:"items"`
		Total   string `json:"total"`
	}
	// Item is one line of a receipt.
	Item struct {
		Name  string `json:"name"`
		Qty   int    `json:"qty"`
		Price string `json:"price"`
	}
	// PasswordReset sends a reset link.
	PasswordReset struct {
		To      string `json:"to"`
		Link    string `json:"link"`
		Expires string `json:"expires"`
	}
)

// header is shared by every template; the per-kind templates fill in the
// subject and body.
const header = `{{define "header"}}From: Postbox Shop <shop@example.com>
To: {{.To}}
Subject: {{template "subject" .}}
Date: {{date}}
Message-ID: <{{msgid}}@postbox.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
{{end}}`

var templates = map[string]string{
	"welcome": `{{define "subject"}}Welcome, {{.Name}}!{{end}}{{template "header" .}}
Hello {{.Name}},

Thanks for signing up. Your account is ready.

-- The Postbox Shop
`,
	"receipt": `{{define "subject"}}Your order {{.OrderID}}{{end}}{{template "header" .}}
Hello {{.Name}},

Thank you for your order {{.OrderID}}:
{{range .Items}}
  {{printf "%-20s" .Name}} x{{.Qty}}  {{.Price}}{{end}}

Total: {{.Total}}

-- The Postbox Shop
`,
	"password_reset": `{{define "subject"}}Reset your password{{end}}{{template "header" .}}
Someone asked to reset the password of {{.To}}.
Follow this link within {{.Expires}} to choose a new one:

  {{.Link}}

If it was not you, ignore this message.
`,
}

// renderer renders the jobs of one kind.
type renderer func(msg *consumer.Message, payload json.RawMessage, w io.Writer) error

// typed returns a renderer that decodes the payload into a T and executes
// the kind's template with it.
func typed[T any](kind string) renderer {
	return func(msg *consumer.Message, payload json.RawMessage, w io.Writer) error {
		var job T
		if err := json.Unmarshal(payload, &job); err != nil {
			return consumer.Permanent(fmt.Errorf("%s job: %w", kind, err))
		}
		t := template.Must(template.New(kind).Funcs(template.FuncMap{
			"date":  func() string { return msg.SentAt.UTC().Format(time.RFC1123Z) },
			"msgid": func() string { return msg.MessageID },
		}).Parse(header + templates[kind]))
		return t.Execute(w, job)
	}
}

var renderers = map[string]renderer{
	"welcome":        typed[Welcome]("welcome"),
	"receipt":        typed[Receipt]("receipt"),
	"password_reset": typed[PasswordReset]("password_reset"),
}

// jobs returns n jobs of the three kinds in turn; every tenth has a kind
// nobody handles.
func jobs(n int) []envelope {
	names := []string{"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret"}
	out := make([]envelope, n)
	for i := range out {
		name := names[i%len(names)]
		to := strings.ToLower(name) + fmt.Sprintf("+%d@example.com", i)
		var kind string
		var payload any
		switch {
		case i%10 == 9:
			kind, payload = "newsletter", map[string]string{"to": to}
		case i%3 == 0:
			kind, payload = "welcome", Welcome{To: to, Name: name}
		case i%3 == 1:
			kind, payload = "receipt", Receipt{To: to, Name: name, OrderID: fmt.Sprintf("A-%04d", i),
				Items: []Item{{"Postcard", 3, "3.00"}, {"Stamp", 3, "2.10"}}, Total: "5.10"}
		default:
			kind, payload = "password_reset", PasswordReset{To: to,
				Link: fmt.Sprintf("https://shop.example.com/reset?token=%08x", i*2654435761), Expires: "1 hour"}
		}
		raw, _ := json.Marshal(payload)
		out[i] = envelope{Kind: kind, Payload: raw}
	}
	return out
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("email", flag.ContinueOnError)
	fs.SetOutput(stdout)
	n := fs.Int("n", 30, "number of e-mail jobs")
	outDir := fs.String("out", "", "output folder (default: a new temporary folder)")
	queueURL := fs.String("queue", "mem://emails", "queue URL")
	workers := fs.Int("workers", 8, "handlers running at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 || *workers < 1 {
		return errors.New("bad flag value")
	}
	if *outDir == "" {
		d, err := os.MkdirTemp("", "postbox-email-")
		if err != nil {
			return err
		}
		*outDir = d
	}
	deadDir := filepath.Join(*outDir, "dead")
	if err := os.MkdirAll(deadDir, 0o755); err != nil {
		return err
	}
	q, _, err := backend.Open(ctx, *queueURL)
	if err != nil {
		return err
	}

	all := jobs(*n)
	var finished atomic.Int64
	allDone := make(chan struct{})
	finish := func() {
		if finished.Add(1) == int64(len(all)) {
			close(allDone)
		}
	}
	if len(all) == 0 {
		close(allDone)
	}
	handle := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		var env envelope
		if err := json.Unmarshal([]byte(msg.Body), &env); err != nil {
			return consumer.Permanent(err)
		}
		render, ok := renderers[env.Kind]
		if !ok {
			return consumer.Permanent(fmt.Errorf("no handler for jobs of kind %q", env.Kind))
		}
		var b strings.Builder
		if err := render(msg, env.Payload, &b); err != nil {
			return err
		}
		eml := strings.ReplaceAll(b.String(), "\n", "\r\n") // RFC 5322 line ends
		path := filepath.Join(*outDir, env.Kind+"-"+msg.MessageID+".eml")
		if err := os.WriteFile(path, []byte(eml), 0o644); err != nil {
			return err
		}
		finish()
		return nil
	})
	var dead atomic.Int64
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       q,
			Handler:     consumer.Chain(handle, middleware.Recover()),
			Concurrency: *workers,
			OnPermanent: func(ctx context.Context, msg *consumer.Message, err error) error {
				// File the job where a person will look, then let it go.
				if werr := os.WriteFile(filepath.Join(deadDir, msg.MessageID+".json"), []byte(msg.Body), 0o644); werr != nil {
					return werr
				}
				dead.Add(1)
				finish()
				return nil
			},
		}},
		OnError: func(err error) {
			var e *consumer.Error
			if errors.As(err, &e) && e.Op == consumer.OpPermanent {
				return // filed under dead/
			}
			fmt.Fprintln(stdout, "email:", err)
		},
	})
	if err != nil {
		return err
	}
	runCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()

	msgs := make([]producer.Message, len(all))
	for i, env := range all {
		body, _ := json.Marshal(env)
		msgs[i] = producer.Message{Body: string(body)}
	}
	start := time.Now()
	if _, err := producer.SendBatch(ctx, q, msgs); err != nil {
		stopServer()
		<-served
		return err
	}
	select {
	case <-allDone:
	case <-ctx.Done():
	}
	stopServer()
	if err := <-served; err != nil {
		return err
	}
	written := len(all) - int(dead.Load())
	fmt.Fprintf(stdout, "email: %d messages written to %s, %d jobs of unknown kinds filed under %s, in %v\n",
		written, *outDir, dead.Load(), deadDir, time.Since(start).Round(time.Millisecond))
	if int(finished.Load()) != len(all) {
		return fmt.Errorf("%d of %d jobs finished", finished.Load(), len(all))
	}
	return nil
}
