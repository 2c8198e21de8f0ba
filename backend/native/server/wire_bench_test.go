package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// The server's own cost per request of the message actions, without HTTP
// or a client: ServeHTTP on a reused request and a response writer that
// keeps nothing, over the native engine in memory. allocs/op is what the
// server (and the engine under it) allocates per request of 10 messages of
// 256 bytes; the floor row is the canned-answer floor (internal/benchfloor)
// on the same request.
//
//	go test -run '^$' -bench '^BenchmarkWire(Send|Receive|Delete)' -benchmem ./backend/native/server/
//
// The receive uses VisibilityTimeout 0, so its queue never runs dry.

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }
func (w *nopWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// rewindBody is a request body that can be read again.
type rewindBody struct {
	b []byte
	i int
}

func (r *rewindBody) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func (r *rewindBody) Close() error { return nil }

// wireCall serves body as the JSON protocol's action over and over.
type wireCall struct {
	h    http.Handler
	req  *http.Request
	body *rewindBody
	w    nopWriter
}

func newWireCall(h http.Handler, action string, body []byte) *wireCall {
	c := &wireCall{h: h, body: &rewindBody{b: body}, w: nopWriter{h: http.Header{}}}
	req, err := http.NewRequest("POST", "http://127.0.0.1:9324/", c.body)
	if err != nil {
		panic(err)
	}
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.ContentLength = int64(len(body))
	req.RemoteAddr = "127.0.0.1:40000"
	c.req = req
	return c
}

func (c *wireCall) do(b *testing.B) {
	c.body.i = 0
	clear(c.w.h)
	c.w.code, c.w.n = 0, 0
	c.h.ServeHTTP(&c.w, c.req)
	if c.w.code != 0 && c.w.code != http.StatusOK {
		b.Fatalf("status %d", c.w.code)
	}
}

// wireSetup returns the server over a fresh engine and a queue on it.
func wireSetup(b *testing.B) (*server.Server, *native.Engine, string) {
	eng, err := native.New(native.Config{BaseURL: "http://127.0.0.1:9324"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		b.Fatal(err)
	}
	u, err := eng.CreateQueue(context.Background(), "wire", nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return srv, eng, u
}

func sendBatchBody(u string) []byte {
	type entry struct{ Id, MessageBody string }
	es := make([]entry, benchBatch)
	for i := range es {
		es[i] = entry{strconv.Itoa(i), benchPayload}
	}
	body, _ := json.Marshal(map[string]any{"QueueUrl": u, "Entries": es})
	return body
}

func fillQueue(b *testing.B, eng *native.Engine, u string, n int) {
	q, err := eng.Queue(u)
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]backend.SendEntry, benchBatch)
	for i := range entries {
		entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: benchPayload}
	}
	for range n / benchBatch {
		if _, err := q.Send(context.Background(), entries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWireSend(b *testing.B) {
	b.Run("floor", func(b *testing.B) {
		c := newWireCall(floorServer(), "SendMessageBatch", sendBatchBody("http://floor/000000000000/q"))
		b.ReportAllocs()
		for b.Loop() {
			c.do(b)
		}
	})
	b.Run("postbox", func(b *testing.B) {
		srv, eng, u := wireSetup(b)
		c := newWireCall(srv, "SendMessageBatch", sendBatchBody(u))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			c.do(b)
			if n++; n%10000 == 0 { // keep the queue from growing without end
				b.StopTimer()
				eng.DeleteQueue(context.Background(), u)
				var err error
				if u, err = eng.CreateQueue(context.Background(), "wire"+strconv.Itoa(n), nil, nil); err != nil {
					b.Fatal(err)
				}
				c = newWireCall(srv, "SendMessageBatch", sendBatchBody(u))
				b.StartTimer()
			}
		}
	})
}

func BenchmarkWireReceive(b *testing.B) {
	receive := func(u string) []byte {
		return []byte(`{"QueueUrl":"` + u + `","MaxNumberOfMessages":10,"VisibilityTimeout":0,"WaitTimeSeconds":0}`)
	}
	b.Run("floor", func(b *testing.B) {
		c := newWireCall(floorServer(), "ReceiveMessage", receive("http://floor/000000000000/q"))
		b.ReportAllocs()
		for b.Loop() {
			c.do(b)
		}
	})
	b.Run("postbox", func(b *testing.B) {
		srv, eng, u := wireSetup(b)
		fillQueue(b, eng, u, 1000)
		c := newWireCall(srv, "ReceiveMessage", receive(u))
		b.ReportAllocs()
		for b.Loop() {
			c.do(b)
		}
	})
}

// BenchmarkWireDelete times the DeleteMessageBatch of 10 received
// messages; the send and receive that give it its handles are not timed.
func BenchmarkWireDelete(b *testing.B) {
	srv, eng, u := wireSetup(b)
	q, _ := eng.Queue(u)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fillQueue(b, eng, u, benchBatch)
		msgs, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: benchBatch, WaitTimeSeconds: new(0)})
		if err != nil || len(msgs) != benchBatch {
			b.Fatalf("receive: %d, %v", len(msgs), err)
		}
		type entry struct{ Id, ReceiptHandle string }
		es := make([]entry, len(msgs))
		for i, m := range msgs {
			es[i] = entry{strconv.Itoa(i), m.ReceiptHandle}
		}
		body, _ := json.Marshal(map[string]any{"QueueUrl": u, "Entries": es})
		c := newWireCall(srv, "DeleteMessageBatch", body)
		b.StartTimer()
		c.do(b)
	}
}
