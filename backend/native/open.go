package native

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/postbox-go/postbox/backend"
)

func init() {
	backend.Register("mem", "github.com/postbox-go/postbox/backend/native", openMem)
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

// Shared returns the process-wide engine that serves mem:// URLs.
func Shared() (*Engine, error) {
	shared.once.Do(func() { shared.eng, shared.err = New(Config{}) })
	return shared.eng, shared.err
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
