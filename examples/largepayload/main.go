// Command largepayload sends a 5 MiB typed job, five times SQS's limit,
// through S3: the producer stores the payload and sends a pointer in the
// Amazon SQS Extended Client's format, and the worker's largepayload.Resolve
// middleware reads the payload back before the job's handler runs, then
// deletes it.
//
//	go run ./examples/largepayload
//
// The queue is the in-process engine (mem://reports) and S3 is gofakes3,
// an S3 protocol server started in the process on 127.0.0.1, reached with
// aws-sdk-go-v2's S3 client exactly as AWS S3 would be. On AWS, make the
// client with s3.NewFromConfig and open an SQS queue URL instead; nothing
// else changes, and Java and Python Extended Clients can send to or
// receive from the same queue.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/native" // mem://
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/largepayload"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

const bucket = "postbox-payloads"

// Report is the typed job: 5 MiB of rows.
type Report struct {
	Title string   `json:"title"`
	Rows  []string `json:"rows"`
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "largepayload:", err)
		os.Exit(1)
	}
}

// startS3 serves gofakes3 on 127.0.0.1 with the bucket made, and returns a
// client for it and a function that stops it.
func startS3() (*s3.Client, func(), error) {
	mem := s3mem.New()
	if err := mem.CreateBucket(bucket); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	hs := &http.Server{Handler: gofakes3.New(mem).Server()}
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(ln)
	}()
	tr := &http.Transport{}
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		UsePathStyle: true,
		HTTPClient:   &http.Client{Transport: tr},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "example", SecretAccessKey: "example"}, nil
		}),
	})
	return client, func() {
		tr.CloseIdleConnections()
		hs.Close()
		<-served
	}, nil
}

func run(ctx context.Context, out io.Writer) error {
	client, stopS3, err := startS3()
	if err != nil {
		return err
	}
	defer stopS3()
	q, svc, err := backend.Open(ctx, "mem://reports")
	if err != nil {
		return err
	}
	defer svc.Close()
	store := largepayload.S3Store{Client: client}

	// The worker: the Resolve middleware outside the router.
	type result struct {
		title, from string
		rows        int
		sum         [32]byte
		size        int
	}
	got := make(chan result, 1)
	r := middleware.NewRouter()
	r.Handle("report", middleware.Job(func(ctx context.Context, rep Report) error {
		msg, _ := middleware.MessageFromContext(ctx)
		p, _ := largepayload.PointerFrom(ctx)
		// Printed by the main goroutine, which also writes to out.
		got <- result{title: rep.Title, from: p.String(), rows: len(rep.Rows), sum: sha256.Sum256([]byte(msg.Body)), size: len(msg.Body)}
		return nil
	}))
	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{
		Queue:   q,
		Handler: consumer.Chain(r, largepayload.Resolve(largepayload.ResolveConfig{Store: store, DeleteAfterSuccess: true})),
	}}})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()

	// The producer: a job middleware.NewJob would refuse (over 1 MiB), so
	// its message is made by hand, then offloaded.
	rep := Report{Title: "quarterly numbers"}
	for i := range 5 << 10 {
		rep.Rows = append(rep.Rows, fmt.Sprintf("%06d,", i)+strings.Repeat("x", 1013))
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	o, err := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: bucket, KeyPrefix: "reports/"})
	if err != nil {
		return err
	}
	m, err := o.Message(ctx, producer.Message{
		Body:       string(body),
		Attributes: map[string]backend.MessageAttributeValue{middleware.TypeAttribute: {DataType: "String", StringValue: "report"}},
	})
	if err == nil {
		_, err = producer.Send(ctx, q, m)
	}
	if err != nil {
		stop()
		<-served
		return err
	}
	fmt.Fprintf(out, "producer: sent a %.1f MiB job as a %d-byte message:\n  %s\n", float64(len(body))/(1<<20), len(m.Body), m.Body)

	res := <-got
	fmt.Fprintf(out, "worker: %q, %d rows, read from %s\n", res.title, res.rows, res.from)
	stop()
	if err := <-served; err != nil {
		return err
	}
	if res.sum != sha256.Sum256(body) || res.rows != len(rep.Rows) {
		return errors.New("the worker got another payload")
	}
	fmt.Fprintf(out, "worker: %d bytes, the same SHA-256 as sent\n", res.size)
	left, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "s3: %d objects left in %s (deleted after success)\n", len(left.Contents), bucket)
	return nil
}
