package backend

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
)

// OpenFunc opens the queue a URL names, returning it with the service that
// owns it. The caller closes the service when done with the queue.
type OpenFunc func(ctx context.Context, u *url.URL) (Queue, Service, error)

// registry maps URL schemes to the backends that serve them. Backends
// register themselves in init, as database/sql drivers do; it is the one
// piece of package-level state and is only written at init time.
var registry struct {
	sync.RWMutex
	openers map[string]registered
}

type registered struct {
	open   OpenFunc
	module string
}

// Register makes a backend serve URLs of scheme. importPath names the package
// that registers it, for the error an unregistered scheme gets. Registering a
// scheme twice panics.
func Register(scheme, importPath string, open OpenFunc) {
	registry.Lock()
	defer registry.Unlock()
	if registry.openers == nil {
		registry.openers = make(map[string]registered)
	}
	if _, dup := registry.openers[scheme]; dup {
		panic("backend: scheme registered twice: " + scheme)
	}
	registry.openers[scheme] = registered{open: open, module: importPath}
}

// Schemes returns the registered URL schemes, sorted.
func Schemes() []string {
	registry.RLock()
	defer registry.RUnlock()
	s := make([]string, 0, len(registry.openers))
	for k := range registry.openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// knownSchemes tells which package to import for a scheme nobody registered.
var knownSchemes = map[string]string{
	"mem":   "github.com/postbox-go/postbox/backend/native",
	"file":  "github.com/postbox-go/postbox/backend/native",
	"http":  "github.com/postbox-go/postbox/backend/awssqs",
	"https": "github.com/postbox-go/postbox/backend/awssqs",
}

// Open opens the queue that rawURL names with the backend registered for its
// scheme: mem://NAME (in-process engine), file:///DIR?queue=NAME (durable
// engine), https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (AWS) or
// http://HOST:PORT/ACCOUNT/NAME (an SQS-compatible endpoint such as postbox
// serve). A program links backends with blank imports, or imports
// github.com/postbox-go/postbox/backend/all for every one.
func Open(ctx context.Context, rawURL string) (Queue, Service, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("backend: malformed queue URL %q: %w", rawURL, err)
	}
	if u.Scheme == "" {
		return nil, nil, fmt.Errorf("backend: queue URL %q has no scheme (want mem://, file://, http:// or https://)", rawURL)
	}
	registry.RLock()
	r, ok := registry.openers[u.Scheme]
	registry.RUnlock()
	if !ok {
		if pkg, known := knownSchemes[u.Scheme]; known {
			return nil, nil, fmt.Errorf("backend: no backend for %s:// URLs is linked in; add: import _ %q", u.Scheme, pkg)
		}
		return nil, nil, fmt.Errorf("backend: unknown queue URL scheme %q in %q (want mem://, file://, http:// or https://)", u.Scheme, rawURL)
	}
	return r.open(ctx, u)
}
