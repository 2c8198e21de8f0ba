package native

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"github.com/postbox-go/postbox/backend"
)

func init() {
	backend.Register("mem", "github.com/postbox-go/postbox/backend/native", openMem)
	backend.Register("file", "github.com/postbox-go/postbox/backend/native", openFile)
}

// shared is the process-wide engine behind mem:// URLs, so that a producer
// and a consumer that open the same mem:// URL share one queue, as they
// would share an SQS queue. It is created on first use and lives as long as
// the process.
var shared struct {
	once sync.Once
	eng  *Engine
	err  error
}

// Shared returns the process-wide engine that serves mem:// URLs. Its
// queues' URLs are mem://NAME (Config.LocalURLs).
func Shared() (*Engine, error) {
	shared.once.Do(func() { shared.eng, shared.err = New(Config{LocalURLs: true}) })
	return shared.eng, shared.err
}

// OpenEndpoint returns the service of the in-process engine that an
// endpoint URL names, as backend.Open would use for its queue URLs:
// mem:// (the shared engine) or file:///DIR (the durable engine in DIR,
// shared by every opener in the process; ?sync=interval selects
// SyncInterval when it is opened first). A queue URL of either kind names
// its engine too. It is for administering queues where there is no queue
// to open yet (creating one with attributes, listing). The service's
// queue URLs are mem://NAME and file:///DIR?queue=NAME. Close the service
// when done: that releases a durable engine, which closes with its last
// opener; the shared engine stays open.
func OpenEndpoint(ctx context.Context, rawURL string) (backend.Service, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("native: malformed endpoint %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "mem":
		eng, err := Shared()
		if err != nil {
			return nil, err
		}
		return sharedService{eng}, nil
	case "file":
		dir, cfg, err := fileConfig(u)
		if err != nil {
			return nil, err
		}
		durableEngines.Lock()
		defer durableEngines.Unlock()
		sd, err := durableEngine(dir, cfg)
		if err != nil {
			return nil, err
		}
		sd.refs++
		return &durableService{Engine: sd.eng, dir: dir}, nil
	}
	return nil, fmt.Errorf("native: endpoint %q: want mem:// or file:///DIR", rawURL)
}

// openMem opens mem://NAME[?Attribute=value...]: the queue NAME on the
// shared engine, created on first open with the attributes given as query
// parameters (a name ending in .fifo makes a FIFO queue).
func openMem(ctx context.Context, u *url.URL) (backend.Queue, backend.Service, error) {
	name := u.Host + strings.TrimSuffix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, nil, fmt.Errorf("native: mem:// URL %q must name one queue: mem://NAME", u.String())
	}
	eng, err := Shared()
	if err != nil {
		return nil, nil, err
	}
	attrs := backend.Attributes{}
	for k, vs := range u.Query() {
		if len(vs) != 1 {
			return nil, nil, fmt.Errorf("native: mem:// URL %q gives attribute %s %d times", u.String(), k, len(vs))
		}
		attrs[k] = vs[0]
	}
	if backend.IsFIFOName(name) {
		attrs["FifoQueue"] = "true"
	}
	qurl, err := eng.QueueURL(ctx, name, "")
	if err != nil {
		if qurl, err = eng.CreateQueue(ctx, name, attrs, nil); err != nil {
			return nil, nil, fmt.Errorf("native: opening %s: %w", u.String(), err)
		}
	}
	q, err := eng.Queue(qurl)
	if err != nil {
		return nil, nil, err
	}
	return q, sharedService{eng}, nil
}

// sharedService is the shared engine as handed out by backend.Open: closing
// it does not close the engine, which other openers still use.
type sharedService struct{ *Engine }

// Close does nothing: the shared engine lives as long as the process.
func (sharedService) Close() error { return nil }

// durableEngines are the durable engines opened through file:// URLs, one
// per data directory (a directory admits one engine at a time), shared by
// every opener in the process and closed when the last one closes.
var durableEngines struct {
	sync.Mutex
	byDir map[string]*sharedDurable
}

type sharedDurable struct {
	eng  *Engine
	refs int
}

// fileConfig checks a file:// URL and returns its directory and the
// engine configuration it asks for.
func fileConfig(u *url.URL) (string, Config, error) {
	if u.Host != "" && u.Host != "localhost" {
		return "", Config{}, fmt.Errorf("native: file:// URL %q names host %q; use file:///absolute/dir?queue=NAME", u.String(), u.Host)
	}
	dir := filepath.Clean(u.Path)
	if u.Path == "" || !filepath.IsAbs(dir) {
		return "", Config{}, fmt.Errorf("native: file:// URL %q needs an absolute directory: file:///absolute/dir?queue=NAME", u.String())
	}
	cfg := Config{DataDir: dir, LocalURLs: true}
	if vs, ok := u.Query()["sync"]; ok {
		switch vs[0] {
		case "always":
		case "interval":
			cfg.Sync = SyncInterval
		default:
			return "", Config{}, fmt.Errorf("native: file:// URL %q: sync must be always or interval", u.String())
		}
	}
	return dir, cfg, nil
}

// durableEngine returns the shared durable engine of dir, opening it with
// cfg when no opener has it. Callers hold durableEngines and count their
// reference.
func durableEngine(dir string, cfg Config) (*sharedDurable, error) {
	if durableEngines.byDir == nil {
		durableEngines.byDir = map[string]*sharedDurable{}
	}
	sd := durableEngines.byDir[dir]
	if sd == nil {
		eng, err := New(cfg)
		if err != nil {
			return nil, err
		}
		sd = &sharedDurable{eng: eng}
		durableEngines.byDir[dir] = sd
	}
	return sd, nil
}

// openFile opens file:///DIR?queue=NAME[&Attribute=value...]: the queue
// NAME of the durable engine in DIR, created on first open with the
// attributes given. Optional parameters sync=interval selects SyncInterval.
func openFile(ctx context.Context, u *url.URL) (backend.Queue, backend.Service, error) {
	dir, cfg, err := fileConfig(u)
	if err != nil {
		return nil, nil, err
	}
	params := u.Query()
	name := params.Get("queue")
	if name == "" {
		return nil, nil, fmt.Errorf("native: file:// URL %q needs ?queue=NAME", u.String())
	}
	attrs := backend.Attributes{}
	for k, vs := range params {
		if k == "queue" || k == "sync" {
			continue
		}
		if len(vs) != 1 {
			return nil, nil, fmt.Errorf("native: file:// URL %q gives attribute %s %d times", u.String(), k, len(vs))
		}
		attrs[k] = vs[0]
	}
	if backend.IsFIFOName(name) {
		attrs["FifoQueue"] = "true"
	}
	durableEngines.Lock()
	defer durableEngines.Unlock()
	sd, err := durableEngine(dir, cfg)
	if err != nil {
		return nil, nil, err
	}
	qurl, err := sd.eng.QueueURL(ctx, name, "")
	if err != nil {
		if qurl, err = sd.eng.CreateQueue(ctx, name, attrs, nil); err != nil {
			if sd.refs == 0 {
				sd.eng.Close()
				delete(durableEngines.byDir, dir)
			}
			return nil, nil, fmt.Errorf("native: opening %s: %w", u.String(), err)
		}
	}
	q, err := sd.eng.Queue(qurl)
	if err != nil {
		return nil, nil, err
	}
	sd.refs++
	return q, &durableService{Engine: sd.eng, dir: dir}, nil
}

// durableService is a durable engine as handed out by backend.Open: Close
// releases this opener's reference, and the engine closes with the last.
type durableService struct {
	*Engine
	dir  string
	once sync.Once
}

// Close releases the engine when no other opener uses it.
func (s *durableService) Close() error {
	var err error
	s.once.Do(func() {
		durableEngines.Lock()
		defer durableEngines.Unlock()
		sd := durableEngines.byDir[s.dir]
		if sd == nil || sd.eng != s.Engine {
			return
		}
		sd.refs--
		if sd.refs == 0 {
			delete(durableEngines.byDir, s.dir)
			err = sd.eng.Close()
		}
	})
	return err
}
