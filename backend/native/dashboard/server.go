package dashboard

import (
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ServerInfo describes the server the dashboard is part of, for GET
// /_postbox/api/server.
type ServerInfo struct {
	// Version is postbox's version.
	Version string
	// Auth is the authentication mode: "anonymous", or "sigv4" with
	// Credentials access keys.
	Auth        string
	Credentials int
}

// ActionCount is one SQS action's requests and errors (by SQS error code)
// since the server started: what Config.Requests returns.
type ActionCount struct {
	Action   string
	Requests int64
	Errors   map[string]int64
}

// StorageJSON is the engine's storage.
type StorageJSON struct {
	// Kind is "memory" or "disk"; DataDir and Sync are set for "disk".
	Kind    string `json:"kind"`
	DataDir string `json:"dataDir,omitempty"`
	Sync    string `json:"sync,omitempty"`
	// Fsyncs and FsyncSeconds count the log's fsyncs since the start.
	Fsyncs       int64   `json:"fsyncs"`
	FsyncSeconds float64 `json:"fsyncSeconds"`
}

// ActionJSON is one action's requests, rate and errors.
type ActionJSON struct {
	Action    string           `json:"action"`
	Requests  int64            `json:"requests"`
	PerSecond float64          `json:"perSecond"`
	Errors    map[string]int64 `json:"errors"`
}

// ServerJSON answers GET /_postbox/api/server.
type ServerJSON struct {
	Time             int64       `json:"time"`
	Version          string      `json:"version"`
	StartedTimestamp int64       `json:"startedTimestamp"`
	UptimeSeconds    float64     `json:"uptimeSeconds"`
	Storage          StorageJSON `json:"storage"`
	Auth             string      `json:"auth"`
	Credentials      int         `json:"credentials"`
	Queues           int         `json:"queues"`
	Messages         struct {
		Visible  int `json:"visible"`
		InFlight int `json:"inflight"`
		Delayed  int `json:"delayed"`
	} `json:"messages"`
	LongPollsWaiting int `json:"longPollsWaiting"`
	// Actions are every SQS action served so far, sorted by name, with
	// its requests per second over the rate window; null without
	// Config.Requests. Errors totals the failed requests by code.
	Actions           []ActionJSON     `json:"actions"`
	Errors            map[string]int64 `json:"errors"`
	RequestsPerSecond float64          `json:"requestsPerSecond"`
}

// reqSampler keeps recent samples of the request counters, to compute
// per-action rates as the queue sampler does.
type reqSampler struct {
	mu      sync.Mutex
	samples []reqSample
}

type reqSample struct {
	at     time.Time
	counts map[string]int64
}

// rates records counts at now (at most once per interval) and returns
// each action's requests per second over the window.
func (s *reqSampler) rates(now time.Time, counts map[string]int64, interval, window time.Duration) map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.samples); n == 0 || now.Sub(s.samples[n-1].at) >= interval {
		s.samples = append(s.samples, reqSample{now, counts})
	}
	for len(s.samples) > 1 && now.Sub(s.samples[0].at) > window {
		s.samples = s.samples[1:]
	}
	out := map[string]float64{}
	from := s.samples[0]
	dt := now.Sub(from.at).Seconds()
	if dt <= 0 {
		return out
	}
	for a, n := range counts {
		if d := n - from.counts[a]; d > 0 {
			out[a] = float64(d) / dt
		}
	}
	return out
}

// getServer serves GET /_postbox/api/server, authorized as ListQueues.
func (h *Handler) getServer(w http.ResponseWriter, r *http.Request) {
	if err := h.authorize(r, "ListQueues", ""); err != nil {
		writeError(w, err)
		return
	}
	now, stats := h.snapshot()
	out := ServerJSON{
		Time: now.UnixMilli(), Version: h.cfg.Server.Version,
		StartedTimestamp: h.cfg.Started.UnixMilli(), UptimeSeconds: max(now.Sub(h.cfg.Started).Seconds(), 0),
		Auth: h.cfg.Server.Auth, Credentials: h.cfg.Server.Credentials,
		Queues: len(stats), LongPollsWaiting: h.eng.WaitingReceives(),
		Errors: map[string]int64{},
	}
	if out.Auth == "" {
		out.Auth = "anonymous"
	}
	for i := range stats {
		out.Messages.Visible += stats[i].Visible
		out.Messages.InFlight += stats[i].InFlight
		out.Messages.Delayed += stats[i].Delayed
	}
	st := h.eng.Storage()
	out.Storage = StorageJSON{Kind: "memory", Fsyncs: st.Syncs, FsyncSeconds: st.SyncSeconds}
	if st.DataDir != "" {
		out.Storage.Kind, out.Storage.DataDir, out.Storage.Sync = "disk", st.DataDir, st.Sync.String()
	}
	if h.cfg.Requests != nil {
		counts := h.cfg.Requests()
		totals := make(map[string]int64, len(counts))
		for _, c := range counts {
			totals[c.Action] = c.Requests
		}
		rates := h.reqs.rates(now, totals, h.cfg.Interval, h.cfg.RateWindow)
		out.Actions = make([]ActionJSON, 0, len(counts))
		for _, c := range counts {
			errs := maps.Clone(c.Errors)
			if errs == nil {
				errs = map[string]int64{}
			}
			for code, n := range errs {
				out.Errors[code] += n
			}
			out.Actions = append(out.Actions, ActionJSON{Action: c.Action, Requests: c.Requests, PerSecond: rates[c.Action], Errors: errs})
			out.RequestsPerSecond += rates[c.Action]
		}
		slices.SortFunc(out.Actions, func(a, b ActionJSON) int {
			if a.Action < b.Action {
				return -1
			}
			if a.Action > b.Action {
				return 1
			}
			return 0
		})
	}
	writeJSON(w, http.StatusOK, out)
}
