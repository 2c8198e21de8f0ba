// Command email renders typed e-mail jobs with text/template into .eml
// files: a producer enqueues welcome, receipt and password-reset jobs with
// middleware.NewJob (a JSON body and a "type" message attribute), and a
// worker pool dispatches each with a middleware.Router to the typed
// handler of its type (middleware.Job), which renders it and writes it to
// the output folder, where any mail client opens it.
//
//	go run ./examples/email                  # 30 jobs into a temporary folder
//	go run ./examples/email -n 100 -out ./mail
//
// A job of a type nobody handles ("newsletter"), or whose body does not
// decode into its type, is a permanent failure: retrying cannot help, so
// the OnPermanent hook files it under out/dead/ and the message is deleted.
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

// render returns the typed handler of the jobs of one type: it executes
// the type's template with the job and writes the .eml file to dir.
func render[T any](typ, dir string, written func()) func(ctx context.Context, job T) error {
	return func(ctx context.Context, job T) error {
		msg, _ := middleware.MessageFromContext(ctx)
		t := template.Must(template.New(typ).Funcs(template.FuncMap{
			"date":  func() string { return msg.SentAt.UTC().Format(time.RFC1123Z) },
			"msgid": func() string { return msg.MessageID },
		}).Parse(header + templates[typ]))
		var b strings.Builder
		if err := t.Execute(&b, job); err != nil {
			return err
		}
		eml := strings.ReplaceAll(b.String(), "\n", "\r\n") // RFC 5322 line ends
		if err := os.WriteFile(filepath.Join(dir, typ+"-"+msg.MessageID+".eml"), []byte(eml), 0o644); err != nil {
			return err
		}
		written()
		return nil
	}
}

// jobs returns n jobs of the three types in turn, as messages to send;
// every tenth has a type nobody handles.
func jobs(n int) ([]producer.Message, error) {
	names := []string{"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret"}
	out := make([]producer.Message, n)
	for i := range out {
		name := names[i%len(names)]
		to := strings.ToLower(name) + fmt.Sprintf("+%d@example.com", i)
		var typ string
		var job any
		switch {
		case i%10 == 9:
			typ, job = "newsletter", map[string]string{"to": to}
		case i%3 == 0:
			typ, job = "welcome", Welcome{To: to, Name: name}
		case i%3 == 1:
			typ, job = "receipt", Receipt{To: to, Name: name, OrderID: fmt.Sprintf("A-%04d", i),
				Items: []Item{{"Postcard", 3, "3.00"}, {"Stamp", 3, "2.10"}}, Total: "5.10"}
		default:
			typ, job = "password_reset", PasswordReset{To: to,
				Link: fmt.Sprintf("https://shop.example.com/reset?token=%08x", i*2654435761), Expires: "1 hour"}
		}
		m, err := middleware.NewJob(typ, job)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
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

	all, err := jobs(*n)
	if err != nil {
		return err
	}
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
	// One typed handler per job type; the router picks it by the message's
	// "type" attribute. A type without a handler is a permanent failure.
	router := middleware.NewRouter()
	router.Handle("welcome", middleware.Job(render[Welcome]("welcome", *outDir, finish)))
	router.Handle("receipt", middleware.Job(render[Receipt]("receipt", *outDir, finish)))
	router.Handle("password_reset", middleware.Job(render[PasswordReset]("password_reset", *outDir, finish)))
	var dead atomic.Int64
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       q,
			Handler:     consumer.Chain(router, middleware.Recover()),
			Concurrency: *workers,
			OnPermanent: func(ctx context.Context, msg *consumer.Message, err error) error {
				// File the job where a person will look, with its type and
				// why it failed, then let it go.
				typ := msg.MessageAttributes[middleware.TypeAttribute].StringValue
				filed, _ := json.MarshalIndent(struct {
					Type  string `json:"type"`
					Error string `json:"error"`
					Body  string `json:"body"`
				}{typ, err.Error(), msg.Body}, "", "  ")
				if werr := os.WriteFile(filepath.Join(deadDir, msg.MessageID+".json"), filed, 0o644); werr != nil {
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

	start := time.Now()
	if _, err := producer.SendBatch(ctx, q, all); err != nil {
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
	fmt.Fprintf(stdout, "email: %d messages written to %s, %d jobs of unknown types filed under %s, in %v\n",
		written, *outDir, dead.Load(), deadDir, time.Since(start).Round(time.Millisecond))
	if int(finished.Load()) != len(all) {
		return fmt.Errorf("%d of %d jobs finished", finished.Load(), len(all))
	}
	return nil
}
