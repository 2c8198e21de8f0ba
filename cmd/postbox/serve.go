package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/dashboard"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/backend/native/server/metrics"
)

// serveOptions are the flags of postbox serve.
type serveOptions struct {
	addr            string
	host            string
	configFile      string
	accountID       string
	region          string
	logLevel        string
	logFormat       string
	maxRequestBytes int64
	maxLongPolls    int
	maxPollsPerConn int
	shutdownTimeout time.Duration
	dataDir         string
	sync            string
	syncInterval    time.Duration
	ui              bool
	metrics         bool
	// Authentication and TLS (see docs/security.md).
	credentialsFile string
	allowAnonymous  bool
	tlsCert         string
	tlsKey          string
	uiToken         string
	corsOrigins     []string
	getenv          func(string) string                              // nil: os.Getenv
	listen          func(network, addr string) (net.Listener, error) // nil: net.Listen
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the native engine over the SQS wire protocol",
		Long: `Serve the native queue engine over the Amazon SQS wire protocol (JSON 1.0
and the older query protocol), so that any AWS SDK, the AWS CLI and other
SQS clients can use it with --endpoint-url / BaseEndpoint:

  postbox serve
  aws sqs create-queue --queue-name jobs --endpoint-url http://127.0.0.1:9324

Queue URLs are http://HOST:PORT/000000000000/NAME, with the host the client
used unless --host says otherwise. With --config, the queues the file names
are created at start (see "Config file" below). SIGINT or SIGTERM shuts the
server down gracefully: waiting long polls are answered with no messages,
requests in flight finish, then the engine closes. Messages live in memory,
or on disk with --data-dir DIR: then every send, delete and visibility
change is on stable storage before it is acknowledged (--sync always, the
default; --sync interval syncs every --sync-interval instead), and a restart
finds every queue and message as it was. One process at a time may use a
data directory.

Config file (JSON):

  {
    "server": {"addr": "127.0.0.1:9324", "data-dir": "/var/lib/postbox", "ui": true},
    "queues": [
      {"name": "jobs-dlq"},
      {"name": "jobs",
       "attributes": {"VisibilityTimeout": 60, "ReceiveMessageWaitTimeSeconds": 20},
       "deadLetter": {"queue": "jobs-dlq", "maxReceiveCount": 5},
       "tags": {"team": "payments"}},
      {"name": "events.fifo", "attributes": {"FifoQueue": true, "ContentBasedDeduplication": true}}
    ]
  }

"server" sets any flag of this command by its name ("sync-interval":
"50ms", "max-long-polls": 5000, ...); a flag given on the command line wins
over the file. Attribute values may be JSON strings, numbers or booleans.
The file may also hold credentials (below); keep such a file private
(chmod 600).

Authentication: with credentials, every request must be signed with AWS
Signature Version 4 by one of them (what SDKs and the AWS CLI do with
their access key and secret), and acts in the credential's account: its
queues are http://HOST:PORT/ACCOUNT/NAME, and another account's queue may
be used only as that queue's Policy (or AddPermission) allows. Credentials
come from the config file, --credentials-file, or the environment:

  {"credentials": [
    {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "...", "accountId": "111122223333"}
  ]}

  POSTBOX_ACCESS_KEY_ID=AKIDEXAMPLE POSTBOX_SECRET_ACCESS_KEY=... \
  POSTBOX_ACCOUNT_ID=111122223333 postbox serve

(accountId defaults to --account-id). Without credentials the server is
anonymous: it checks no signature. It then serves only on a loopback
address unless --allow-anonymous is given. --tls-cert and --tls-key serve
HTTPS.

Browsers: a request that a browser sends for a web page of another origin
(an Origin header that is not the server's, Sec-Fetch-Site cross-site or
same-site) is refused with AccessDenied and changes nothing, so that a web
page cannot drive a local server. --cors-allow-origin lets the pages of an
origin in (for the AWS SDK for JavaScript in a browser) and answers their
CORS preflights. SDKs, the AWS CLI and curl send no such headers and are
not affected. A browser that opens the server's address is sent to the
dashboard. See docs/security.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.configFile != "" {
				cfg, err := loadConfig(o.configFile)
				if err != nil {
					return err
				}
				if err := applyServerSettings(cmd.Flags(), cfg, o.configFile); err != nil {
					return err
				}
			}
			return runServe(cmd.Context(), o, cmd.ErrOrStderr(), nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:9324", "address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&o.host, "host", "", "host[:port] in the queue URLs of answers (default: the host the client used)")
	f.StringVar(&o.configFile, "config", "", "JSON file of queues to create at start and of server settings (see below)")
	f.StringVar(&o.accountID, "account-id", native.DefaultAccountID, "account id in queue URLs and ARNs")
	f.StringVar(&o.region, "region", native.DefaultRegion, "region in queue ARNs")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug (one line per request), info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.Int64Var(&o.maxRequestBytes, "max-request-bytes", server.DefaultMaxRequestBytes, "largest request body accepted")
	f.IntVar(&o.maxLongPolls, "max-long-polls", server.DefaultMaxLongPolls, "long polls that may wait at once; past it ReceiveMessage gets RequestThrottled")
	f.IntVar(&o.maxPollsPerConn, "max-long-polls-per-conn", server.DefaultMaxLongPollsPerConn, "long polls that may wait at once on one connection (HTTP/2)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown waits for requests in flight")
	f.StringVar(&o.dataDir, "data-dir", "", "keep queues and messages durably in this directory (default: in memory)")
	f.StringVar(&o.sync, "sync", "always", "with --data-dir: always (fsync before acknowledging) or interval (fsync every --sync-interval)")
	f.DurationVar(&o.syncInterval, "sync-interval", 100*time.Millisecond, "with --sync interval: how often to fsync")
	f.BoolVar(&o.ui, "ui", true, "serve the web dashboard at /_postbox/ (--ui=false to turn it off)")
	f.BoolVar(&o.metrics, "metrics", true, "serve Prometheus metrics at GET /metrics (--metrics=false to turn them off; see docs/metrics.md)")
	f.StringVar(&o.credentialsFile, "credentials-file", "", `JSON file of credentials ({"credentials": [{"accessKeyId", "secretAccessKey", "accountId"}]}); turns SigV4 authentication on`)
	f.BoolVar(&o.allowAnonymous, "allow-anonymous", false, "serve without credentials on a non-loopback address (anyone who can connect may do anything)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	f.StringVar(&o.uiToken, "ui-token", "", "with credentials: a token that opens the dashboard to non-loopback clients (Authorization: Bearer TOKEN or cookie postbox_ui_token)")
	f.StringSliceVar(&o.corsOrigins, "cors-allow-origin", nil, "let web pages of this origin (scheme://host[:port], or * for any) use the SQS API from a browser (repeatable or comma-separated; default: none, cross-site browser requests are refused)")
	return cmd
}

// newLogger returns the slog logger the flags ask for.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// serving describes a running server, for tests.
type serving struct {
	addr    net.Addr
	waiting func() int // long polls parked in the engine
}

// runServe serves until ctx ends, then shuts down gracefully. ready, when
// not nil, is called once the queues of the config file exist and requests
// are being served.
func runServe(ctx context.Context, o serveOptions, logOut io.Writer, ready func(serving)) error {
	log, err := newLogger(logOut, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	var cfg *fileConfig
	if o.configFile != "" {
		if cfg, err = loadConfig(o.configFile); err != nil {
			return err
		}
	}
	getenv := o.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	accountID := o.accountID
	if accountID == "" {
		accountID = native.DefaultAccountID
	}
	creds, err := serveCredentials(cfg, o.credentialsFile, getenv, accountID)
	if err != nil {
		return err
	}
	for _, f := range []string{o.configFile, o.credentialsFile} {
		if f != "" && len(creds) > 0 {
			if w := secretFileWarning(f); w != "" {
				log.Warn(w)
			}
		}
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	var tlsConfig *tls.Config
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	if len(creds) == 0 {
		exp, err := exposedAddr(ctx, o.addr)
		if err != nil {
			return err
		}
		if exp && !o.allowAnonymous {
			return fmt.Errorf("refusing to serve anonymously on %s, which other machines can reach: "+
				"give credentials (--credentials-file, \"credentials\" in --config, or %s/%s) "+
				"or pass --allow-anonymous to serve without authentication", o.addr, envAccessKeyID, envSecretAccessKey)
		}
		if exp {
			log.Warn("serving WITHOUT authentication on a non-loopback address: anyone who can connect may read, send and delete messages",
				"addr", o.addr)
		}
	}
	listen := o.listen
	if listen == nil {
		listen = net.Listen
	}
	ln, err := listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	defer ln.Close()

	var syncMode native.SyncMode
	switch o.sync {
	case "always", "": // "" is the zero serveOptions: the default
		syncMode = native.SyncAlways
	case "interval":
		syncMode = native.SyncInterval
	default:
		return fmt.Errorf("--sync %q: want always or interval", o.sync)
	}
	started := time.Now()
	eng, err := native.New(native.Config{
		AccountID:    o.accountID,
		Region:       o.region,
		BaseURL:      scheme + ln.Addr().String(),
		Logger:       log,
		DataDir:      o.dataDir,
		Sync:         syncMode,
		SyncInterval: o.syncInterval,
	})
	if err != nil {
		return err
	}
	if o.dataDir != "" {
		log.Info("durable queues", "data-dir", o.dataDir, "sync", o.sync)
	}
	defer eng.Close()
	if cfg != nil {
		if err := cfg.apply(ctx, eng, log); err != nil {
			return fmt.Errorf("%s: %w", o.configFile, err)
		}
	}
	version := strings.TrimPrefix(strings.SplitN(buildVersion(), "\n", 2)[0], "postbox ")
	var mets *metrics.Metrics
	var observe func(action, code string, status int, took time.Duration)
	if o.metrics {
		if mets, err = metrics.New(metrics.Config{Engine: eng, Version: version, Started: started, GoCollector: true}); err != nil {
			return err
		}
		observe = mets.Observe
	}
	srv, err := server.New(server.Config{Service: eng, Host: o.host, MaxRequestBytes: o.maxRequestBytes, MaxLongPolls: o.maxLongPolls,
		MaxLongPollsPerConn: o.maxPollsPerConn, Logger: log, Credentials: creds, CORSAllowOrigins: o.corsOrigins, Observe: observe})
	if err != nil {
		return err
	}
	auth := "anonymous"
	if len(creds) > 0 {
		auth = fmt.Sprintf("sigv4 (%d credentials)", len(creds))
	}
	hs := &http.Server{
		Handler:  srv,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if o.ui {
		dcfg := dashboard.Config{Engine: eng, Logger: log, Authorize: srv.DashboardAuthorizer(o.uiToken), Started: started,
			Server: dashboard.ServerInfo{Version: version, Auth: "anonymous"}}
		if len(creds) > 0 {
			dcfg.Server.Auth, dcfg.Server.Credentials = "sigv4", len(creds)
		}
		if mets != nil {
			dcfg.Requests = func() []dashboard.ActionCount {
				cs := mets.Counts()
				out := make([]dashboard.ActionCount, len(cs))
				for i, c := range cs {
					out[i] = dashboard.ActionCount(c)
				}
				return out
			}
		}
		dash, err := dashboard.New(dcfg)
		if err != nil {
			return err
		}
		defer dash.Close()
		hs.Handler = dash.Wrap(srv)                    // /_postbox/ -> dashboard, the rest -> SQS
		hs.RegisterOnShutdown(func() { dash.Close() }) // end event streams
	}
	if mets != nil {
		hs.Handler = metricsRoute(mets.Handler(), srv.DashboardAuthorizer(o.uiToken), hs.Handler)
	}
	// Timeouts and the header limit (slowloris, idle connections); long
	// polls are exempt from the read and write timeouts.
	server.HTTPLimits{}.Apply(hs)
	served := make(chan error, 1)
	if tlsConfig != nil {
		hs.TLSConfig = tlsConfig
		go func() { served <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- hs.Serve(ln) }()
	}
	log.Info("postbox serve listening", "addr", ln.Addr().String(),
		"endpoint", scheme+ln.Addr().String(), "account", o.accountID, "region", o.region, "auth", auth)
	if o.ui {
		log.Info("dashboard", "url", scheme+ln.Addr().String()+dashboard.Prefix)
	}
	if ready != nil {
		ready(serving{addr: ln.Addr(), waiting: eng.WaitingReceives})
	}

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("postbox serve shutting down", "waiting_polls", eng.WaitingReceives())
	// Answer waiting long polls first, so that Shutdown does not wait for
	// them; then let requests in flight finish; then close the engine.
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("graceful shutdown incomplete; closing connections", "err", err)
		hs.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	if err := eng.Close(); err != nil {
		return err
	}
	log.Info("postbox serve stopped")
	return nil
}

// metricsRoute serves GET /metrics with m, allowed as the dashboard is
// (with credentials: loopback clients, or the --ui-token), and passes
// every other request to next.
func metricsRoute(m http.Handler, authorize func(r *http.Request, action, queueURL string) error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.Query().Has("Action") {
			next.ServeHTTP(w, r)
			return
		}
		if err := authorize(r, "GetMetrics", ""); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		m.ServeHTTP(w, r)
	})
}
