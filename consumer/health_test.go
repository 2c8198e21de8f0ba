package consumer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// probe asks h as a Kubernetes probe would and returns the status and the
// body's first line.
func probe(h http.Handler) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return w.Code, strings.TrimSpace(w.Body.String())
}

func TestHealthHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, newEngine(t), "q", nil)
		fq := &faultQueue{Queue: q}
		var failing atomic.Bool
		gate := make(chan struct{})
		fq.receiveHook = func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if failing.Load() {
				return nil, backend.NewError(backend.CodeServiceUnavailable, "down")
			}
			return q.Receive(ctx, req)
		}
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
		srv, err := consumer.New(consumer.Config{UnhealthyAfter: time.Minute, OnError: func(error) {},
			Queues: []consumer.QueueConfig{{Queue: fq, Handler: h, WaitTime: 5 * time.Second}}})
		if err != nil {
			t.Fatal(err)
		}
		hh := srv.HealthHandler()
		if code, body := probe(hh); code != http.StatusServiceUnavailable || body != "not started" {
			t.Errorf("before Run: %d %q", code, body)
		}
		done := make(chan error)
		go func() { done <- srv.Run(context.Background()) }()
		synctest.Wait()
		if code, body := probe(hh); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready") {
			t.Errorf("before the first receive answered: %d %q", code, body)
		}
		close(gate)
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if code, body := probe(hh); code != http.StatusOK || body != "ok" {
			t.Errorf("consuming: %d %q", code, body)
		}
		// Receives fail: healthy for UnhealthyAfter, then not.
		failing.Store(true)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if code, _ := probe(hh); code != http.StatusOK {
			t.Errorf("failing for 30s: %d", code)
		}
		time.Sleep(40 * time.Second)
		synctest.Wait()
		if code, body := probe(hh); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "unhealthy: receives from "+q.URL()) {
			t.Errorf("failing for 70s: %d %q", code, body)
		}
		// A receive that succeeds makes it healthy again.
		failing.Store(false)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if code, body := probe(hh); code != http.StatusOK {
			t.Errorf("recovered: %d %q", code, body)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-done
		if code, body := probe(hh); code != http.StatusServiceUnavailable || body != "stopped" {
			t.Errorf("after Shutdown: %d %q", code, body)
		}
	})
}
