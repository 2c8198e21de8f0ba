package dashboard

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/native"
)

// Prefix is the path under which the dashboard serves everything.
const Prefix = "/_postbox/"

// Defaults for Config's zero values.
const (
	DefaultInterval   = time.Second
	DefaultRateWindow = 10 * time.Second
	DefaultHistory    = 120
)

//go:embed web
var webFiles embed.FS

// Config configures a Handler. Engine is required; the zero value of every
// other field means its documented default.
type Config struct {
	// Engine is the engine whose queues the dashboard shows and changes.
	Engine *native.Engine
	// Clock times the samples rates are computed from and paces event
	// streams; nil means the engine's clock.
	Clock clockwork.Clock
	// Authorize, when not nil, is asked before every API request with the
	// SQS action the request corresponds to and the queue URL ("" for
	// requests about no single queue): ListQueues (queue list, event
	// stream), GetQueueAttributes (a queue's figures; also asked per queue
	// by an event stream following one queue), ReceiveMessage (browsing
	// messages: it reads bodies), SendMessage, PurgeQueue,
	// StartMessageMoveTask, CancelMessageMoveTask, SetQueueAttributes,
	// TagQueue, UntagQueue, CreateQueue (queue URL ""), DeleteQueue, and
	// for the operator's message actions DeleteMessage and, for moving
	// messages, ReceiveMessage and DeleteMessage on the source and
	// SendMessage on the destination. A non-nil error
	// denies the request: a *backend.Error is answered with its code and
	// status, any other error with AccessDenied (403). The static files of
	// the page carry no data and are served without asking. nil allows
	// everything.
	Authorize func(r *http.Request, action, queueURL string) error
	// Interval is the sampling and event-stream period (default 1 s).
	Interval time.Duration
	// RateWindow is the span rates are averaged over (default 10 s).
	RateWindow time.Duration
	// History is how many samples a queue's chart keeps (default 120).
	History int
	// Logger receives the dashboard's diagnostics (default slog.Default()).
	Logger *slog.Logger
	// Started is when the server started, shown beside the counters that
	// count since then; zero means when New was called.
	Started time.Time
	// Server describes the server for the server page (GET
	// /_postbox/api/server).
	Server ServerInfo
	// Requests, when not nil, returns the SQS API's requests and errors
	// by action so far (metrics.Metrics.Counts, converted), for the
	// server page's requests per second and errors by code.
	Requests func() []ActionCount
}

// Handler serves the dashboard under Prefix. It is safe for concurrent
// use. Close it when done: that ends open event streams, which otherwise
// last as long as their clients.
type Handler struct {
	cfg     Config
	eng     *native.Engine
	clock   clockwork.Clock
	mux     *http.ServeMux
	samples *sampler
	reqs    reqSampler

	done chan struct{}
	once sync.Once
}

var _ http.Handler = (*Handler)(nil)

// New returns a dashboard for cfg.Engine.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("dashboard: Config.Engine is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = cfg.Engine.Clock()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Started.IsZero() {
		cfg.Started = cfg.Clock.Now()
	}
	h := &Handler{
		cfg:     cfg,
		eng:     cfg.Engine,
		clock:   cfg.Clock,
		samples: newSampler(cfg.Interval, cfg.RateWindow, cfg.History),
		done:    make(chan struct{}),
	}
	web, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(web))
	m := http.NewServeMux()
	m.HandleFunc("GET /_postbox/api/queues", h.listQueues)
	m.HandleFunc("GET /_postbox/api/queues/{name}", h.getQueue)
	m.HandleFunc("GET /_postbox/api/queues/{name}/messages", h.getMessages)
	m.HandleFunc("GET /_postbox/api/events", h.events)
	m.HandleFunc("GET /_postbox/api/server", h.getServer)
	m.HandleFunc("POST /_postbox/api/queues/{name}/messages", h.sendMessage)
	m.HandleFunc("POST /_postbox/api/queues/{name}/purge", h.queueOp("PurgeQueue", h.eng.Purge))
	m.HandleFunc("POST /_postbox/api/queues/{name}/redrive", h.startRedrive)
	m.HandleFunc("POST /_postbox/api/queues/{name}/redrive/cancel", h.cancelRedrive)
	m.HandleFunc("POST /_postbox/api/queues", h.createQueue)
	m.HandleFunc("POST /_postbox/api/queues/{name}/messages/delete", h.deleteMessages)
	m.HandleFunc("POST /_postbox/api/queues/{name}/messages/move", h.moveMessages)
	m.HandleFunc("POST /_postbox/api/queues/{name}/delete", h.queueOp("DeleteQueue", h.eng.DeleteQueue))
	m.HandleFunc("POST /_postbox/api/queues/{name}/attributes", h.setAttributes)
	m.HandleFunc("POST /_postbox/api/queues/{name}/tags", h.tagQueue)
	m.HandleFunc("/_postbox/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound(r))
	})
	m.Handle("/_postbox/", static(files))
	m.Handle("/_postbox", http.RedirectHandler(Prefix, http.StatusMovedPermanently))
	h.mux = m
	return h, nil
}

// static serves the page's files to GET and HEAD, telling browsers to
// check for a newer binary's page.
func static(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the dashboard's page and API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// Wrap returns a handler that serves the dashboard for paths under Prefix
// (and /_postbox itself), redirects a browser that opens any other page
// to the dashboard (see opensPage), and passes every other request to
// next unchanged (unlike an http.ServeMux, it never cleans or redirects
// next's paths).
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, Prefix) || p == strings.TrimSuffix(Prefix, "/") {
			h.ServeHTTP(w, r)
			return
		}
		if opensPage(r) {
			http.Redirect(w, r, Prefix, http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// opensPage reports whether r is a browser opening a page, such as
// http://127.0.0.1:9324/ typed into its address bar, rather than an SQS
// request: a GET or HEAD whose Accept header names text/html, without an
// Action parameter or an X-Amz-Target header. SQS would answer it with a
// MissingAction error; the dashboard is what such a visitor is after.
func opensPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("X-Amz-Target") != "" || r.URL.Query().Has("Action") {
		return false
	}
	for _, v := range r.Header.Values("Accept") {
		for mt := range strings.SplitSeq(v, ",") {
			mt, _, _ = strings.Cut(mt, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				return true
			}
		}
	}
	return false
}

// Close ends the open event streams; later ones end at once. It is
// idempotent and does not close the engine.
func (h *Handler) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}
