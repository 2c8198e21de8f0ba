// Command typedjobs is the README's typed-jobs snippet as a program: a
// router of typed JSON jobs behind tracing and logging, and the producer
// side that sends one, on an in-process queue. It sends a welcome job,
// handles it, and stops once the queue is idle.
//
//	go run ./examples/typedjobs
package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/middleware/telemetry"
	"github.com/postbox-go/postbox/producer"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// mail stands in for an email service.
func mail(_ context.Context, to, text string) error {
	fmt.Printf("mail to %s: %s\n", to, text)
	return nil
}

func run(ctx context.Context) error {
	q, _, err := backend.Open(ctx, "mem://welcome")
	if err != nil {
		return err
	}

	// The README's snippet, from here to the Send.
	type Welcome struct{ To, Name string }

	r := middleware.NewRouter() // dispatches on the message attribute "type"
	r.Handle("welcome", middleware.Job(func(ctx context.Context, w Welcome) error {
		return mail(ctx, w.To, "Welcome, "+w.Name)
	})) // a body that does not decode is a permanent failure, never retried forever

	tel, _ := telemetry.New(telemetry.Config{}) // OpenTelemetry: the global providers
	q = tel.Queue(q)                            // every queue call traced and measured
	handler := consumer.Chain(r, tel.Middleware(), middleware.Logging(slog.Default()), middleware.Recover())

	// The producer side: a JSON body, the "type" attribute, the trace context.
	p := producer.New(q, producer.Config{Prepare: tel.PrepareMessage})
	m, _ := middleware.NewJob("welcome", Welcome{To: "ada@example.com", Name: "Ada"})
	_, err = p.Send(ctx, m)
	if err != nil {
		return err
	}

	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	srv, err := consumer.New(consumer.Config{
		StopWhenIdle: time.Second,
		Queues:       []consumer.QueueConfig{{Queue: q, Handler: handler}},
	})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
