// Command quickstart is the worker in postbox's README: it queues three
// jobs, handles them, and stops once the queue has been idle for a second.
package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/all" // mem://, file:// and http(s):// queue URLs
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

// resize is the job. An error returned makes the message come back later;
// a panic is logged and does the same.
func resize(ctx context.Context, msg *consumer.Message) error {
	fmt.Println("resizing", msg.Body)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt) // Ctrl-C: a graceful shutdown
	defer stop()

	url := os.Getenv("POSTBOX_QUEUE_URL") // mem://jobs, file:///var/lib/jobs?queue=jobs, http(s)://...
	if url == "" {
		url = "mem://jobs" // a queue inside this process
	}
	q, svc, err := backend.Open(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	for _, image := range []string{"cat.png", "dog.png", "owl.png"} {
		if _, err := producer.Send(ctx, q, producer.Message{Body: image}); err != nil {
			log.Fatal(err)
		}
	}

	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue: q,
			Handler: consumer.Chain(consumer.HandlerFunc(resize),
				middleware.Logging(slog.Default()), // outermost: logs every failure, panics included
				middleware.Recover(),               // a panic becomes an error
			),
			Concurrency: 50,
		}},
		StopWhenIdle: time.Second, // Run returns once the queue has been empty for a second
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Run(ctx); err != nil { // until ctx ends or the queue is idle, then a graceful shutdown
		log.Fatal(err)
	}
	fmt.Println("done")
}
