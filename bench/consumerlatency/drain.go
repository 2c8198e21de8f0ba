package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/postbox-go/postbox/backend/awssqs"
)

// drainResult is one drain's outcome (one line of results.jsonl).
type drainResult struct {
	Kind        string           `json:"kind"` // "drain"
	Scenario    string           `json:"scenario"`
	Contender   string           `json:"contender"`
	Round       int              `json:"round"`
	RTTMs       float64          `json:"rtt_ms"`
	HandlerMs   float64          `json:"handler_ms"`
	Concurrency int              `json:"concurrency"`
	Messages    int              `json:"messages"`
	Size        int              `json:"size"`
	Seconds     float64          `json:"seconds"`    // start to the last delete acknowledged
	MsgsPerS    float64          `json:"msgs_per_s"` // Messages / Seconds
	Ideal       *float64         `json:"ideal_msgs_per_s,omitempty"`
	StopSeconds float64          `json:"stop_seconds"` // the contender's shutdown, after the last delete
	FillSeconds float64          `json:"fill_seconds"`
	Left        int              `json:"left"` // visible + not visible after the drain
	Errors      int64            `json:"errors"`
	Requests    map[string]int64 `json:"requests"` // SQS actions through the proxy
	Connections int64            `json:"connections"`
	Settings    map[string]any   `json:"settings"`
}

func runDrain(args []string) error {
	fs := flag.NewFlagSet("drain", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "postbox serve endpoint, http://127.0.0.1:PORT")
	who := fs.String("contender", "postbox", "postbox, gocloud or handloop")
	scenario := fs.String("scenario", "", "scenario name, copied to the result")
	name := fs.String("queue", "", "queue to create, fill and drain (default: derived from the flags)")
	rtt := fs.Duration("rtt", 0, "round-trip time the proxy adds to every answer")
	handler := fs.Duration("handler", 0, "handler time (a sleep; 0: no-op)")
	c := fs.Int("c", 32, "concurrency")
	n := fs.Int("n", 10000, "messages")
	size := fs.Int("size", 256, "body size in bytes")
	round := fs.Int("round", 0, "round number, copied to the result")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	fs.Parse(args)
	run, ok := contenders[*who]
	if !ok {
		return fmt.Errorf("-contender %q: want postbox, gocloud or handloop", *who)
	}
	if *endpoint == "" {
		return errors.New("-endpoint is required")
	}
	if *name == "" {
		*name = fmt.Sprintf("lat-%s-r%d-%d", *who, *round, os.Getpid())
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	serverURL, fillTook, err := createAndFill(ctx, *endpoint, *name, *n, *size)
	if err != nil {
		return err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	p, err := startProxy(u.Host, *rtt)
	if err != nil {
		return err
	}
	proxyURL := p.URL() + u.Path

	a := newAcks(*n)
	start := time.Now()
	rep, err := run(ctx, job{endpoint: p.URL(), queueURL: proxyURL, handler: *handler, c: *c, acks: a, until: a.done})
	stopped := time.Now()
	p.Close()
	if err != nil {
		return fmt.Errorf("%s after %d deletes: %w", *who, a.n.Load(), err)
	}
	end := time.Unix(0, a.at.Load())

	svc, err := awssqs.OpenEndpoint(ctx, *endpoint)
	if err != nil {
		return err
	}
	defer svc.Close()
	vis, inv, err := counts(ctx, svc, serverURL)
	if err != nil {
		return err
	}
	if vis+inv == 0 {
		if err := svc.DeleteQueue(ctx, serverURL); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(os.Stderr, "consumerlatency drain: %s left %d visible, %d in flight in %s\n", *who, vis, inv, *name)
	}
	secs := end.Sub(start).Seconds()
	return printJSON(drainResult{
		Kind: "drain", Scenario: *scenario, Contender: *who, Round: *round,
		RTTMs: ms(*rtt), HandlerMs: ms(*handler), Concurrency: *c, Messages: *n, Size: *size,
		Seconds: secs, MsgsPerS: float64(*n) / secs, Ideal: ideal(*c, *handler),
		StopSeconds: stopped.Sub(end).Seconds(), FillSeconds: fillTook.Seconds(),
		Left: vis + inv, Errors: rep.Errors, Requests: p.Actions(), Connections: p.Connections(),
		Settings: rep.Settings,
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ideal is c handlers' throughput with nothing but the handler's time:
// c / handler. None for a no-op handler.
func ideal(c int, handler time.Duration) *float64 {
	if handler <= 0 {
		return nil
	}
	v := float64(c) / handler.Seconds()
	return &v
}
