package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend/awssqs"
)

// idleResult is one contender's requests on an empty queue.
type idleResult struct {
	Kind           string           `json:"kind"` // "idle"
	Contender      string           `json:"contender"`
	RTTMs          float64          `json:"rtt_ms"`
	Concurrency    int              `json:"concurrency"`
	Seconds        float64          `json:"seconds"`
	Receives       int64            `json:"receives"`
	ReceivesPerMin float64          `json:"receives_per_min"`
	Requests       map[string]int64 `json:"requests"`
	Connections    int64            `json:"connections"`
	Errors         int64            `json:"errors"`
	Settings       map[string]any   `json:"settings"`
}

// runIdle runs the contenders side by side, each on its own empty queue
// behind its own proxy, for a while, and counts their requests.
func runIdle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "postbox serve endpoint, http://127.0.0.1:PORT")
	which := fs.String("contenders", "postbox,gocloud,handloop", "comma-separated contenders")
	dur := fs.Duration("for", time.Minute, "how long each contender runs")
	rtt := fs.Duration("rtt", 10*time.Millisecond, "round-trip time the proxy adds")
	c := fs.Int("c", 32, "concurrency")
	fs.Parse(args)
	if *endpoint == "" {
		return errors.New("-endpoint is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur+2*shutdownTimeout)
	defer cancel()
	svc, err := awssqs.OpenEndpoint(ctx, *endpoint)
	if err != nil {
		return err
	}
	defer svc.Close()

	names := strings.Split(*which, ",")
	results := make([]idleResult, len(names))
	errs := make([]error, len(names))
	until := make(chan struct{})
	var wg sync.WaitGroup
	for i, who := range names {
		run, ok := contenders[who]
		if !ok {
			return fmt.Errorf("-contenders: unknown %q", who)
		}
		qurl, err := svc.CreateQueue(ctx, fmt.Sprintf("idle-%s-%d", who, os.Getpid()), nil, nil)
		if err != nil {
			return err
		}
		u, _ := url.Parse(qurl)
		p, err := startProxy(u.Host, *rtt)
		if err != nil {
			return err
		}
		wg.Go(func() {
			rep, err := run(ctx, job{endpoint: p.URL(), queueURL: p.URL() + u.Path, handler: 0, c: *c, acks: newAcks(1), until: until})
			p.Close()
			secs := dur.Seconds()
			reqs := p.Actions()
			results[i] = idleResult{
				Kind: "idle", Contender: who, RTTMs: ms(*rtt), Concurrency: *c, Seconds: secs,
				Receives: reqs["ReceiveMessage"], ReceivesPerMin: float64(reqs["ReceiveMessage"]) * 60 / secs,
				Requests: reqs, Connections: p.Connections(), Errors: rep.Errors, Settings: rep.Settings,
			}
			errs[i] = err
			svc.DeleteQueue(ctx, qurl)
		})
	}
	time.Sleep(*dur)
	close(until)
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			fmt.Fprintf(os.Stderr, "consumerlatency idle: %s: %v\n", names[i], errs[i])
		}
		if err := printJSON(r); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
