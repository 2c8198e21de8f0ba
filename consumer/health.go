package consumer

import (
	"fmt"
	"net/http"
	"time"
)

// health is what a queue's receives tell of the server's health. Guarded
// by sub.mu.
type health struct {
	ok           bool      // a receive has succeeded
	failingSince time.Time // the first of the receives failing now; zero if none
}

func (h *health) received() { h.ok, h.failingSince = true, time.Time{} }

func (h *health) failed(now time.Time) {
	if h.failingSince.IsZero() {
		h.failingSince = now
	}
}

// HealthHandler returns an http.Handler for orchestrators' health checks
// (Kubernetes readiness and liveness probes, load balancers). It answers
// 200 "ok" while the server consumes, and 503 with the reason otherwise:
// before the first receive from every queue has succeeded (not ready yet),
// once receives from a queue have failed for longer than
// Config.UnhealthyAfter, and once the server stops. It is safe to serve
// before Run and after the server stopped.
func (s *Server) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := s.unhealthy()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if msg != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, msg)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// unhealthy says why the server is not healthy, or "" if it is.
func (s *Server) unhealthy() string {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	select {
	case <-s.stopReq:
		return "stopped"
	default:
	}
	if state != stateRunning {
		return "not started"
	}
	now := s.clock.Now()
	for _, sb := range s.subs {
		sb.mu.Lock()
		h := sb.health
		sb.mu.Unlock()
		if !h.failingSince.IsZero() && now.Sub(h.failingSince) >= s.cfg.UnhealthyAfter {
			return fmt.Sprintf("unhealthy: receives from %s failing since %s", sb.url, h.failingSince.UTC().Format(time.RFC3339))
		}
		if !h.ok {
			return "not ready: no receive from " + sb.url + " has succeeded yet"
		}
	}
	return ""
}
