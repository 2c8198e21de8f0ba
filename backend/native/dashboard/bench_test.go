package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

// The dashboard's API calls at scale, over HTTP on loopback, as the page
// makes them: docs/BENCHMARKS.md has the figures and the command.
//
//	go test -run '^$' -bench 'Dashboard' -benchtime 20x ./backend/native/dashboard/

// benchServer serves a dashboard over loopback for an engine.
func benchServer(b *testing.B, eng *native.Engine) string {
	b.Helper()
	d, err := New(Config{Engine: eng})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(d)
	b.Cleanup(func() { d.Close(); hs.Close() })
	return hs.URL
}

func benchGet(b *testing.B, u string) int {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %s", u, resp.Status)
	}
	return int(n)
}

func BenchmarkDashboard1000Queues(b *testing.B) {
	eng, err := native.New(native.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	for i := range 1000 {
		u, err := eng.CreateQueue(ctx, fmt.Sprintf("queue-%04d", i), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		q, _ := eng.Queue(u)
		q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "x"}})
	}
	base := benchServer(b, eng)
	b.Run("GET queues", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = benchGet(b, base+"/_postbox/api/queues")
		}
		b.ReportMetric(float64(n), "bytes/answer")
	})
	b.Run("GET queue", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, base+"/_postbox/api/queues/queue-0500")
		}
	})
	b.Run("GET server", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, base+"/_postbox/api/server")
		}
	})
}

func BenchmarkDashboardMillionMessages(b *testing.B) {
	eng, err := native.New(native.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	u, err := eng.CreateQueue(ctx, "big", nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	q, _ := eng.Queue(u)
	const total = 1_000_000
	es := make([]backend.SendEntry, 10)
	for i := 0; i < total; i += 10 {
		for j := range es {
			body := `{"order":` + strconv.Itoa(i+j) + `,"item":"teapot"}`
			if i+j == total-5 {
				body = `{"order":"needle"}`
			}
			es[j] = backend.SendEntry{ID: strconv.Itoa(j), Body: body}
		}
		if _, err := q.Send(ctx, es); err != nil {
			b.Fatal(err)
		}
	}
	base := benchServer(b, eng)
	msgs := base + "/_postbox/api/queues/big/messages?max=25"
	b.Run("GET queue", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, base+"/_postbox/api/queues/big")
		}
	})
	b.Run("GET queues", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, base+"/_postbox/api/queues")
		}
	})
	b.Run("first page", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, msgs)
		}
	})
	// A page in the middle of the queue, by cursor (a position), and by
	// the older after= (a message id: Peek walks to it).
	mid, err := eng.Browse(ctx, u, native.BrowseRequest{Max: 1, Cursor: strconv.Itoa(total / 2)})
	if err != nil || len(mid.Messages) != 1 {
		b.Fatal(err)
	}
	b.Run("middle page by cursor", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, msgs+"&cursor="+strconv.Itoa(total/2))
		}
	})
	b.Run("middle page by after", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, msgs+"&after="+mid.Messages[0].MessageID)
		}
	})
	b.Run("filter scan 10000", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, msgs+"&text="+url.QueryEscape("needle"))
		}
	})
	needle, err := eng.Browse(ctx, u, native.BrowseRequest{Max: 1, Cursor: strconv.Itoa(total - 10), Filter: native.BrowseFilter{Text: "needle"}})
	if err != nil || len(needle.Messages) != 1 {
		b.Fatal("no needle", err)
	}
	b.Run("message link by id", func(b *testing.B) {
		// The page opens a linked message with id=; it scans up to 100,000.
		for b.Loop() {
			benchGet(b, msgs+"&id="+mid.Messages[0].MessageID)
		}
	})
	b.Run("delete by id at the end", func(b *testing.B) {
		// DeleteMessagesByID scans for the id: the worst case is the last
		// message. Each iteration deletes one of the last messages.
		tail, err := eng.Browse(ctx, u, native.BrowseRequest{Max: 100, Cursor: strconv.Itoa(total - 100)})
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			if i >= len(tail.Messages) {
				b.Fatal("out of messages to delete")
			}
			if _, err := eng.DeleteMessagesByID(ctx, u, []string{tail.Messages[i].MessageID}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
