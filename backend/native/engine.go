package native

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native/policy"
)

// Defaults for Config's zero values.
const (
	DefaultAccountID = "000000000000"
	DefaultRegion    = "us-east-1"
	DefaultBaseURL   = "http://localhost:9324"
)

// deletedRecently is how long a deleted queue's name stays reserved, and
// purgeInterval how long after a purge another one is refused, as in SQS.
const (
	deletedRecently = 60 * time.Second
	purgeInterval   = 60 * time.Second
)

// Config configures an Engine. The zero value is ready to use.
type Config struct {
	// Clock is the engine's time source; nil means the real clock. Tests
	// pass a clockwork.FakeClock.
	Clock clockwork.Clock
	// AccountID is the account that owns the engine's queues (default
	// "000000000000").
	AccountID string
	// Region goes into queue ARNs (default "us-east-1").
	Region string
	// BaseURL is the scheme://host:port prefix of the queue URLs the engine
	// issues (default "http://localhost:9324"), unless LocalURLs is set.
	// The engine accepts queue URLs with any host: it finds queues by the
	// /account/name path.
	BaseURL string
	// LocalURLs makes the engine issue, for the queues of AccountID, the
	// URLs that name them in process, as backend.Open takes them:
	// mem://NAME, or file:///DIR?queue=NAME when DataDir is set. The
	// engines of backend.Open's mem:// and file:// URLs set it. An engine
	// served over HTTP must not: its URLs are to reach the server. Queues
	// of other accounts (see WithAccount) keep BaseURL URLs, which carry
	// their account. The engine accepts both forms either way.
	LocalURLs bool
	// SenderID is the SenderId system attribute of messages (default: the
	// account id).
	SenderID string
	// Logger receives the engine's diagnostics (default: slog.Default()).
	Logger *slog.Logger

	// DataDir, when set, makes the engine durable: queues and messages are
	// kept in this directory and survive restarts. One process at a time
	// may use a directory.
	DataDir string
	// Sync says when durable writes are synced to stable storage (default
	// SyncAlways: before each change is acknowledged).
	Sync SyncMode
	// SyncInterval is how often SyncInterval mode syncs (default 100 ms).
	SyncInterval time.Duration
	// SegmentBytes is the size at which the log moves to a new file
	// (default 64 MiB).
	SegmentBytes int64
}

// Engine is the native queue engine: SQS semantics in process. It implements
// backend.Service; Queue returns a backend.Queue. It is safe for concurrent
// use. Close it when done.
type Engine struct {
	cfg   Config
	clock clockwork.Clock

	mu      sync.RWMutex
	queues  map[string]*queue    // by "account/name"
	deleted map[string]time.Time // names deleted recently, by "account/name"

	tasksMu sync.Mutex
	tasks   map[string][]*moveTask // by source ARN, oldest first
	tasksWG sync.WaitGroup

	wal       *wal // nil without a data directory
	compactMu sync.Mutex
	bg        sync.WaitGroup // the compactor

	nextGen      atomic.Uint32
	waiting      atomic.Int64
	deadLettered atomic.Int64
	closed       atomic.Bool
	done         chan struct{}
	once         sync.Once
}

var (
	_ backend.Service = (*Engine)(nil)
	_ backend.Queue   = (*Queue)(nil)
)

// New returns an engine with cfg's settings.
func New(cfg Config) (*Engine, error) {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if !backend.IsAccountID(cfg.AccountID) {
		return nil, errors.New("native: AccountID must be 12 digits")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("native: BaseURL must be scheme://host[:port], got " + strconv.Quote(cfg.BaseURL))
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.DataDir != "" {
		// Absolute, so that file:// queue URLs name the directory.
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("native: DataDir %q: %w", cfg.DataDir, err)
		}
		cfg.DataDir = dir
	}
	if cfg.SenderID == "" {
		cfg.SenderID = cfg.AccountID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{
		cfg:     cfg,
		clock:   cfg.Clock,
		queues:  make(map[string]*queue),
		deleted: make(map[string]time.Time),
		tasks:   make(map[string][]*moveTask),
		done:    make(chan struct{}),
	}
	if cfg.DataDir != "" {
		if err := e.recover(); err != nil {
			return nil, err
		}
		e.bg.Add(1)
		go e.compactor()
	}
	return e, nil
}

// compactor writes a snapshot whenever the log has grown by compactEvery
// since the last one.
func (e *Engine) compactor() {
	defer e.bg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
			if e.wal.bytesSinceSnapshot() >= compactEvery {
				if err := e.Compact(); err != nil {
					e.cfg.Logger.Warn("native: compaction failed; will retry", "err", err)
				}
			}
		}
	}
}

// Close ends every parked receive and makes further calls fail with
// ServiceUnavailable; a durable engine writes out and syncs what it holds
// and releases its data directory. It is idempotent.
func (e *Engine) Close() error {
	var err error
	e.once.Do(func() {
		e.closed.Store(true)
		close(e.done)
		for _, q := range e.allQueues() {
			q.mu.Lock()
			q.wakeAll()
			q.mu.Unlock()
		}
		e.tasksWG.Wait()
		e.bg.Wait()
		if e.wal != nil {
			err = e.wal.close()
		}
	})
	return err
}

// WaitingReceives returns how many receives are parked in a long poll. A
// receive is counted once its wait's timer is on the engine's clock, so a
// test that sees the count go up can advance a fake clock past the wait.
func (e *Engine) WaitingReceives() int { return int(e.waiting.Load()) }

// AccountID returns the account that owns the engine's queues.
func (e *Engine) AccountID() string { return e.cfg.AccountID }

// Region returns the region in the engine's ARNs.
func (e *Engine) Region() string { return e.cfg.Region }

// Clock returns the engine's clock.
func (e *Engine) Clock() clockwork.Clock { return e.clock }

func (e *Engine) errClosed() error {
	return backend.NewError(backend.CodeServiceUnavailable, "The engine is closed.")
}

// parseQueueURL finds the account and name in a queue URL: any
// scheme://host/ACCOUNT/NAME, mem://NAME, file:///DIR?queue=NAME with the
// engine's DataDir, or a bare queue name.
func (e *Engine) parseQueueURL(raw string) (account, name string, err *backend.Error) {
	bad := errNoQueue
	if raw == "" {
		return "", "", backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter QueueUrl.")
	}
	if !strings.Contains(raw, "/") {
		return e.cfg.AccountID, raw, nil
	}
	if account, name, ok := plainQueueURL(raw); ok {
		return account, name, nil
	}
	u, perr := url.Parse(raw)
	if perr != nil {
		return "", "", bad()
	}
	switch u.Scheme {
	case "mem":
		return e.cfg.AccountID, u.Host + strings.TrimSuffix(u.Path, "/"), nil
	case "file":
		name := u.Query().Get("queue")
		if e.cfg.DataDir == "" || name == "" || (u.Host != "" && u.Host != "localhost") || filepath.Clean(u.Path) != e.cfg.DataDir {
			return "", "", bad()
		}
		return e.cfg.AccountID, name, nil
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || !backend.IsAccountID(parts[0]) || parts[1] == "" {
		return "", "", bad()
	}
	return parts[0], parts[1], nil
}

// plainQueueURL parses the usual form of a queue URL,
// http[s]://host[:port]/ACCOUNT/NAME[/] with nothing to unescape, without
// allocating. It reports false for anything else, valid or not, which
// parseQueueURL then reads with net/url: it gives the same answer for every
// URL this accepts.
func plainQueueURL(raw string) (account, name string, ok bool) {
	rest, found := strings.CutPrefix(raw, "http://")
	if !found {
		if rest, found = strings.CutPrefix(raw, "https://"); !found {
			return "", "", false
		}
	}
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return "", "", false
	}
	host, path := rest[:slash], rest[slash+1:]
	colon := false
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c == ':' && !colon:
			colon = true
		case c >= '0' && c <= '9':
		case colon:
			return "", "", false // a port is digits only
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '-':
		default:
			return "", "", false
		}
	}
	path = strings.TrimSuffix(path, "/")
	sep := -1
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '/':
			if sep >= 0 {
				return "", "", false
			}
			sep = i
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return "", "", false
		}
	}
	if sep <= 0 || sep == len(path)-1 || !backend.IsAccountID(path[:sep]) {
		return "", "", false
	}
	return path[:sep], path[sep+1:], true
}

func (e *Engine) lookupURL(raw string) (*queue, error) {
	if e.closed.Load() {
		return nil, e.errClosed()
	}
	account, name, err := e.parseQueueURL(raw)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	q := e.queues[account+"/"+name]
	e.mu.RUnlock()
	if q == nil {
		return nil, errNoQueue()
	}
	return q, nil
}

// allQueues returns the engine's queues. It holds e.mu only to copy them,
// so callers may then take each queue's lock (the order is q.mu, e.mu).
func (e *Engine) allQueues() []*queue {
	e.mu.RLock()
	defer e.mu.RUnlock()
	qs := make([]*queue, 0, len(e.queues))
	for _, q := range e.queues {
		qs = append(qs, q)
	}
	return qs
}

// sourcesOf returns the queues whose RedrivePolicy targets the queue arn.
func (e *Engine) sourcesOf(arn string) []*queue {
	var qs []*queue
	for _, q := range e.allQueues() {
		q.mu.Lock()
		if q.cfg.redrive != nil && q.cfg.redrive.DeadLetterTargetArn == arn {
			qs = append(qs, q)
		}
		q.mu.Unlock()
	}
	return qs
}

// lookupARN finds a queue by its ARN.
func (e *Engine) lookupARN(arn string) *queue {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.lookupARNLocked(arn)
}

func (e *Engine) lookupARNLocked(arn string) *queue {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[3] != e.cfg.Region {
		return nil
	}
	return e.queues[p[4]+"/"+p[5]]
}

// CreateQueue creates a queue, or returns the existing one's URL when every
// attribute given matches it. The queue belongs to the account of ctx (see
// WithAccount), by default Config.AccountID.
func (e *Engine) CreateQueue(ctx context.Context, name string, attrs backend.Attributes, tags map[string]string) (string, error) {
	if e.closed.Load() {
		return "", e.errClosed()
	}
	if err := backend.ValidateQueueName(name); err != nil {
		return "", err
	}
	fifo := backend.IsFIFOName(name)
	fifoAttr := false
	if v, ok := attrs[attrFifoQueue]; ok {
		b, err := parseBoolAttr(attrFifoQueue, v)
		if err != nil {
			return "", err
		}
		if !b && !fifo {
			// SQS knows FifoQueue only as true: a standard queue may
			// not name it at all.
			return "", backend.NewError(backend.CodeInvalidAttributeName, "Unknown Attribute FifoQueue.")
		}
		if b && !fifo {
			return "", backend.NewError(backend.CodeInvalidParameterValue,
				"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		fifoAttr = b
	}
	if fifo && !fifoAttr {
		// SQS's words for a .fifo name without FifoQueue=true
		// (boto/botocore#3058).
		return "", backend.NewError(backend.CodeInvalidParameterValue,
			"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	cfg, err := applyAttrs(defaultConfig(fifo), attrs, true)
	if err != nil {
		return "", err
	}
	if err := checkSSE(attrs); err != nil {
		return "", err
	}
	if err := checkPolicy(attrs); err != nil {
		return "", err
	}
	if err := backend.ValidateTags(tags); err != nil {
		return "", err
	}
	account := e.account(ctx)
	if cfg.redrive != nil {
		if err := e.checkRedrive(cfg.redrive, account, name, fifo); err != nil {
			return "", err
		}
	}
	now := e.clock.Now()
	key := account + "/" + name
	// A queue's lock is never taken while holding e.mu (the order is q.mu,
	// then e.mu), so an existing queue is compared outside e.mu.
	for {
		e.mu.RLock()
		existing := e.queues[key]
		e.mu.RUnlock()
		if existing != nil {
			return e.existingQueue(existing, attrs)
		}
		e.mu.Lock()
		if e.queues[key] != nil {
			e.mu.Unlock()
			continue // created meanwhile
		}
		if at, ok := e.deleted[key]; ok {
			if now.Sub(at) < deletedRecently {
				e.mu.Unlock()
				return "", backend.NewError(backend.CodeQueueDeletedRecently,
					"You must wait 60 seconds after deleting a queue before you can create another with the same name.")
			}
			delete(e.deleted, key)
		}
		if err := e.storeCheck(); err != nil {
			e.mu.Unlock()
			return "", err
		}
		q := newQueue(e, account, name, cfg, now)
		if cfg.redrive != nil {
			q.dlq = e.lookupARNLocked(cfg.redrive.DeadLetterTargetArn)
			if cfg.redrive.DeadLetterTargetArn == q.arn {
				q.dlq = q
			}
		}
		for k, v := range tags {
			q.tags[k] = v
		}
		q.mu.Lock()
		r := q.logCreate()
		q.mu.Unlock()
		e.queues[key] = q
		e.mu.Unlock()
		if err := r.wait(); err != nil {
			return "", err
		}
		return q.url(), nil
	}
}

func (e *Engine) existingQueue(q *queue, attrs backend.Attributes) (string, error) {
	q.mu.Lock()
	differs := q.cfg.differs(attrs)
	q.mu.Unlock()
	if differs != "" {
		// SQS's exact words, naming the attribute.
		return "", backend.NewError(backend.CodeQueueNameExists,
			"A queue already exists with the same name and a different value for attribute %s", differs)
	}
	return q.url(), nil
}

// checkRedrive validates a RedrivePolicy for the queue account/name: the
// target exists in the same account, has the same type, and its
// RedriveAllowPolicy lets this queue use it.
func (e *Engine) checkRedrive(p *redrivePolicy, account, name string, fifo bool) *backend.Error {
	bad := func(reason string) *backend.Error {
		return invalidPolicy(attrRedrivePolicy, p.DeadLetterTargetArn, reason)
	}
	parts := strings.Split(p.DeadLetterTargetArn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return bad("deadLetterTargetArn is not a queue ARN")
	}
	if parts[4] != account {
		return bad("the dead-letter queue must be in the same account as its source queue")
	}
	if p.DeadLetterTargetArn == e.arnOf(account, name) {
		// SQS takes a queue as its own dead-letter queue (even at
		// creation); its messages then stay where they are.
		return nil
	}
	t := e.lookupARN(p.DeadLetterTargetArn)
	if t == nil {
		return bad("the dead-letter target queue does not exist")
	}
	t.mu.Lock()
	tfifo, allow := t.cfg.fifo, t.cfg.allow
	t.mu.Unlock()
	if tfifo != fifo {
		return bad("the dead-letter queue of a FIFO queue must be a FIFO queue, and of a standard queue a standard queue")
	}
	if allow != nil {
		srcArn := e.arnOf(account, name)
		switch allow.RedrivePermission {
		case "denyAll":
			return bad("the dead-letter queue's RedriveAllowPolicy denies all source queues")
		case "byQueue":
			if !slices.Contains(allow.SourceQueueArns, srcArn) {
				return bad("the dead-letter queue's RedriveAllowPolicy does not allow this source queue")
			}
		}
	}
	return nil
}

// arnOf is the ARN of the queue account/name.
func (e *Engine) arnOf(account, name string) string {
	return "arn:aws:sqs:" + e.cfg.Region + ":" + account + ":" + name
}

// DeleteQueue deletes a queue and its messages; parked receives on it end.
func (e *Engine) DeleteQueue(ctx context.Context, rawURL string) error {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return err
	}
	if err := e.storeCheck(); err != nil {
		return err
	}
	e.mu.Lock()
	key := q.account + "/" + q.name
	if e.queues[key] != q {
		e.mu.Unlock()
		return errNoQueue()
	}
	now := e.clock.Now()
	delete(e.queues, key)
	e.deleted[key] = now
	q.mu.Lock()
	r := q.logDeleteQueue(now.UnixNano())
	q.deleted.Store(true)
	q.wakeAll()
	q.purgeLocked()
	q.mu.Unlock()
	e.mu.Unlock()
	return r.wait()
}

// QueueURL returns the URL of a queue by name, in ownerAccountID or, when
// that is empty, the account of ctx (see WithAccount).
func (e *Engine) QueueURL(ctx context.Context, name, ownerAccountID string) (string, error) {
	if e.closed.Load() {
		return "", e.errClosed()
	}
	if name == "" {
		return "", backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter QueueName.")
	}
	account := ownerAccountID
	if account == "" {
		account = e.account(ctx)
	}
	e.mu.RLock()
	q := e.queues[account+"/"+name]
	e.mu.RUnlock()
	if q == nil {
		return "", errNoQueue()
	}
	return q.url(), nil
}

// ListQueues lists the queue URLs of the account of ctx (see WithAccount)
// in name order.
func (e *Engine) ListQueues(ctx context.Context, req backend.ListQueuesRequest) (backend.ListQueuesResult, error) {
	if e.closed.Load() {
		return backend.ListQueuesResult{}, e.errClosed()
	}
	account := e.account(ctx)
	e.mu.RLock()
	qs := make([]*queue, 0, len(e.queues))
	for _, q := range e.queues {
		if q.account == account && strings.HasPrefix(q.name, req.Prefix) {
			qs = append(qs, q)
		}
	}
	e.mu.RUnlock()
	return pageQueues(qs, req)
}

// pageQueues sorts qs by name and returns the page req asks for. The token
// is the last name of the previous page.
func pageQueues(qs []*queue, req backend.ListQueuesRequest) (backend.ListQueuesResult, error) {
	if req.MaxResults < 0 || req.MaxResults > 1000 {
		return backend.ListQueuesResult{}, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", req.MaxResults)
	}
	slices.SortFunc(qs, func(a, b *queue) int { return strings.Compare(a.name, b.name) })
	start := 0
	if req.NextToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(req.NextToken)
		if err != nil {
			return backend.ListQueuesResult{}, backend.NewError(backend.CodeInvalidParameterValue, "Invalid NextToken value.")
		}
		start, _ = slices.BinarySearchFunc(qs, string(after), func(q *queue, s string) int {
			if q.name <= s {
				return -1
			}
			return 1
		})
	}
	var res backend.ListQueuesResult
	end := len(qs)
	if req.MaxResults > 0 && start+req.MaxResults < end {
		end = start + req.MaxResults
		res.NextToken = base64.RawURLEncoding.EncodeToString([]byte(qs[end-1].name))
	}
	for _, q := range qs[start:end] {
		res.QueueURLs = append(res.QueueURLs, q.url())
	}
	return res, nil
}

// GetAttributes returns the named queue attributes.
func (e *Engine) GetAttributes(ctx context.Context, rawURL string, names []string) (backend.Attributes, error) {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return nil, err
	}
	all := false
	for _, n := range names {
		if n == attrAll {
			all = true
		} else if !settableAttrs[n] && !readOnlyAttrs[n] {
			return nil, backend.NewError(backend.CodeInvalidAttributeName, "Unknown Attribute %s.", n)
		}
	}
	now := e.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sweep(now.UnixNano())
	out := backend.Attributes{}
	put := func(name string) {
		switch name {
		case attrApproxMessages:
			out[name] = strconv.Itoa(q.nReady)
		case attrApproxNotVisible:
			out[name] = strconv.Itoa(q.nInflight)
		case attrApproxDelayed:
			out[name] = strconv.Itoa(q.nDelayed)
		case attrCreatedTimestamp:
			out[name] = strconv.FormatInt(q.created, 10)
		case attrLastModifiedTimestamp:
			out[name] = strconv.FormatInt(q.lastModified, 10)
		case attrQueueArn:
			out[name] = q.arn
		default:
			if v, ok := q.cfg.value(name); ok {
				out[name] = v
			}
		}
	}
	if all {
		for _, n := range allAttrNames {
			put(n)
		}
	}
	for _, n := range names {
		if n != attrAll {
			put(n)
		}
	}
	return out, nil
}

// allAttrNames is what "All" returns, in SQS's order.
var allAttrNames = []string{
	attrQueueArn, attrApproxMessages, attrApproxNotVisible, attrApproxDelayed,
	attrCreatedTimestamp, attrLastModifiedTimestamp, attrVisibilityTimeout,
	attrMaximumMessageSize, attrMessageRetentionPeriod, attrDelaySeconds,
	attrReceiveMessageWaitTime, attrPolicy, attrRedrivePolicy, attrRedriveAllowPolicy,
	attrFifoQueue, attrContentBasedDeduplication, attrDeduplicationScope,
	attrFifoThroughputLimit, attrKmsMasterKeyID, attrKmsDataKeyReusePeriodSeconds,
	attrSqsManagedSseEnabled,
}

// SetAttributes changes queue attributes; one invalid attribute changes
// nothing.
func (e *Engine) SetAttributes(ctx context.Context, rawURL string, attrs backend.Attributes) error {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return err
	}
	if len(attrs) == 0 {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter Attribute.Name.")
	}
	q.mu.Lock()
	cur := q.cfg
	q.mu.Unlock()
	cfg, aerr := applyAttrs(cur, attrs, false)
	if aerr != nil {
		return aerr
	}
	if err := checkSSE(attrs); err != nil {
		return err
	}
	if err := checkPolicy(attrs); err != nil {
		return err
	}
	var dlq *queue
	if _, ok := attrs[attrRedrivePolicy]; ok && cfg.redrive != nil {
		if err := e.checkRedrive(cfg.redrive, q.account, q.name, cfg.fifo); err != nil {
			return err
		}
		dlq = e.lookupARN(cfg.redrive.DeadLetterTargetArn)
	}
	now := e.clock.Now()
	return q.change(func() (*round, error) {
		// Apply onto the current config again, in case another SetAttributes
		// ran in between; validation already passed for these values.
		cfg, aerr = applyAttrs(q.cfg, attrs, false)
		if aerr != nil {
			return nil, aerr
		}
		if err := e.storeCheck(); err != nil {
			return nil, err
		}
		q.cfg = cfg
		if _, ok := attrs[attrRedrivePolicy]; ok {
			q.dlq = dlq
		}
		q.lastModified = now.Unix()
		return q.logSetAttrs(attrs), nil
	})
}

// Purge deletes every message in the queue. A second purge within 60 seconds
// gets PurgeQueueInProgress.
func (e *Engine) Purge(ctx context.Context, rawURL string) error {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return err
	}
	now := e.clock.Now().UnixNano()
	return q.change(func() (*round, error) {
		if q.purgedAt != 0 && now-q.purgedAt < int64(purgeInterval) {
			return nil, backend.NewError(backend.CodePurgeQueueInProgress,
				"Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.name)
		}
		if err := e.storeCheck(); err != nil {
			return nil, err
		}
		q.purgedAt = now
		q.purgeLocked()
		return q.logPurge(now), nil
	})
}

// TagQueue adds or replaces tags; a queue has at most 50.
func (e *Engine) TagQueue(ctx context.Context, rawURL string, tags map[string]string) error {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter Tags.")
	}
	if err := backend.ValidateTags(tags); err != nil {
		return err
	}
	return q.change(func() (*round, error) {
		n := len(q.tags)
		for k := range tags {
			if _, ok := q.tags[k]; !ok {
				n++
			}
		}
		if n > backend.MaxTags {
			return nil, backend.NewError(backend.CodeInvalidParameterValue,
				"Too many tags: a queue may have at most %d tags.", backend.MaxTags)
		}
		if err := e.storeCheck(); err != nil {
			return nil, err
		}
		for k, v := range tags {
			q.tags[k] = v
		}
		return q.logTags(), nil
	})
}

// UntagQueue removes tags by key.
func (e *Engine) UntagQueue(ctx context.Context, rawURL string, keys []string) error {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter TagKeys.")
	}
	if err := backend.ValidateTagKeys(keys); err != nil {
		return err
	}
	return q.change(func() (*round, error) {
		if err := e.storeCheck(); err != nil {
			return nil, err
		}
		for _, k := range keys {
			delete(q.tags, k)
		}
		return q.logTags(), nil
	})
}

// ListTags returns a copy of the queue's tags.
func (e *Engine) ListTags(ctx context.Context, rawURL string) (map[string]string, error) {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]string, len(q.tags))
	for k, v := range q.tags {
		out[k] = v
	}
	return out, nil
}

// ListDeadLetterSourceQueues lists the queues whose RedrivePolicy targets
// the queue at rawURL.
func (e *Engine) ListDeadLetterSourceQueues(ctx context.Context, rawURL string, req backend.ListQueuesRequest) (backend.ListQueuesResult, error) {
	t, err := e.lookupURL(rawURL)
	if err != nil {
		return backend.ListQueuesResult{}, err
	}
	return pageQueues(e.sourcesOf(t.arn), req)
}

// AddPermission adds a statement with Sid label to the queue's Policy
// attribute, allowing the accounts the actions, as SQS does. (Policies are
// enforced by postbox serve when it authenticates requests.)
func (e *Engine) AddPermission(ctx context.Context, req backend.PermissionRequest) error {
	q, err := e.lookupURL(req.QueueURL)
	if err != nil {
		return err
	}
	if req.Label == "" {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter Label.")
	}
	if len(req.AccountIDs) == 0 {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter AWSAccountIds.")
	}
	if len(req.Actions) == 0 {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter Actions.")
	}
	if !validLabel(req.Label) {
		return backend.NewError(backend.CodeInvalidParameterValue,
			"Value %s for parameter Label is invalid. Reason: Must be at most 80 characters of alphanumerics, hyphens and underscores.", req.Label)
	}
	for _, id := range req.AccountIDs {
		if !backend.IsAccountID(id) {
			return backend.NewError(backend.CodeInvalidParameterValue, "Value %s for parameter AWSAccountIds is invalid. Reason: not a 12-digit account id.", id)
		}
	}
	actions := make([]string, 0, len(req.Actions))
	for _, a := range req.Actions {
		if !permissionActions[a] {
			return backend.NewError(backend.CodeInvalidParameterValue, "Value %s for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action.", a)
		}
		actions = append(actions, "SQS:"+a)
	}
	principals := make([]string, len(req.AccountIDs))
	for i, id := range req.AccountIDs {
		principals[i] = "arn:aws:iam::" + id + ":root"
	}
	now := e.clock.Now()
	return q.change(func() (*round, error) {
		pol, perr := parsePolicy(q.cfg.policy, q.arn)
		if perr != nil {
			return nil, perr
		}
		for _, st := range pol.Statement {
			if st["Sid"] == req.Label {
				return nil, backend.NewError(backend.CodeInvalidParameterValue,
					"Value %s for parameter Label is invalid. Reason: Already exists.", req.Label)
			}
		}
		pol.Statement = append(pol.Statement, map[string]any{
			"Sid":       req.Label,
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": oneOrList(principals)},
			"Action":    oneOrList(actions),
			"Resource":  q.arn,
		})
		b, _ := json.Marshal(pol)
		// The grants count towards the policy's limits (20 statements,
		// 50 principals, 8,192 bytes).
		if verr := policy.Validate(string(b)); verr != nil {
			return nil, verr
		}
		if err := e.storeCheck(); err != nil {
			return nil, err
		}
		q.cfg.policy = string(b)
		q.lastModified = now.Unix()
		return q.logSetAttrs(backend.Attributes{attrPolicy: q.cfg.policy}), nil
	})
}

// oneOrList is a policy value as SQS writes it: a single string for one
// element, a list for more.
func oneOrList(s []string) any {
	if len(s) == 1 {
		return s[0]
	}
	return s
}

// permissionActions are the actions AddPermission may grant.
var permissionActions = map[string]bool{
	"*": true, "SendMessage": true, "ReceiveMessage": true, "DeleteMessage": true,
	"ChangeMessageVisibility": true, "GetQueueAttributes": true, "GetQueueUrl": true,
	"ListDeadLetterSourceQueues": true, "PurgeQueue": true, "ListQueueTags": true,
}

func validLabel(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

type policyDoc struct {
	Version   string           `json:"Version"`
	ID        string           `json:"Id,omitempty"`
	Statement []map[string]any `json:"Statement"`
}

func parsePolicy(raw, arn string) (*policyDoc, *backend.Error) {
	if raw == "" {
		// The policy language version AddPermission writes, as SQS does.
		return &policyDoc{Version: "2008-10-17", ID: arn + "/SQSDefaultPolicy"}, nil
	}
	var p policyDoc
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, backend.NewError(backend.CodeInvalidAttributeValue, "The queue's Policy is not a policy document: %v", err)
	}
	return &p, nil
}

// RemovePermission removes the statement with Sid label from the queue's
// Policy attribute.
func (e *Engine) RemovePermission(ctx context.Context, rawURL, label string) error {
	q, err := e.lookupURL(rawURL)
	if err != nil {
		return err
	}
	if label == "" {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter Label.")
	}
	now := e.clock.Now()
	return q.change(func() (*round, error) {
		pol, perr := parsePolicy(q.cfg.policy, q.arn)
		if perr != nil {
			return nil, perr
		}
		i := slices.IndexFunc(pol.Statement, func(st map[string]any) bool { return st["Sid"] == label })
		if i < 0 {
			return nil, backend.NewError(backend.CodeInvalidParameterValue,
				"Value %s for parameter Label is invalid. Reason: can't find label on existing policy.", label)
		}
		if err := e.storeCheck(); err != nil {
			return nil, err
		}
		pol.Statement = slices.Delete(pol.Statement, i, i+1)
		if len(pol.Statement) == 0 {
			q.cfg.policy = ""
		} else {
			b, _ := json.Marshal(pol)
			q.cfg.policy = string(b)
		}
		q.lastModified = now.Unix()
		return q.logSetAttrs(backend.Attributes{attrPolicy: q.cfg.policy}), nil
	})
}

// Queue returns the message operations of the queue at rawURL. The queue
// need not exist yet: each operation looks it up (and fails with
// QueueDoesNotExist when it is missing).
func (e *Engine) Queue(rawURL string) (backend.Queue, error) {
	if _, _, err := e.parseQueueURL(rawURL); err != nil {
		return nil, err
	}
	return &Queue{eng: e, rawURL: rawURL}, nil
}

// Queue is a handle on one queue of an Engine; it implements backend.Queue.
// It resolves its queue once and again only after the queue is deleted, so
// its operations take no engine-wide lock.
type Queue struct {
	eng    *Engine
	rawURL string
	q      atomic.Pointer[queue]
}

func (h *Queue) get() (*queue, error) {
	if q := h.q.Load(); q != nil && !q.deleted.Load() {
		if h.eng.closed.Load() {
			return nil, h.eng.errClosed()
		}
		return q, nil
	}
	q, err := h.eng.lookupURL(h.rawURL)
	if err != nil {
		return nil, err
	}
	h.q.Store(q)
	return q, nil
}

// URL returns the queue's URL as given to Engine.Queue.
func (h *Queue) URL() string { return h.rawURL }

// DefaultWaitTimeSeconds returns the queue's ReceiveMessageWaitTimeSeconds:
// how long a receive that names no wait time waits. The server uses it to
// tell short polls from long polls before it counts them.
func (h *Queue) DefaultWaitTimeSeconds() (int, error) {
	q, err := h.get()
	if err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.cfg.waitTime, nil
}

// Send implements backend.Queue.
func (h *Queue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := h.get()
	if err != nil {
		return nil, err
	}
	return q.send(entries)
}

// Receive implements backend.Queue.
func (h *Queue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := h.get()
	if err != nil {
		return nil, err
	}
	return q.receive(ctx, &req)
}

// Delete implements backend.Queue.
func (h *Queue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := h.get()
	if err != nil {
		return nil, err
	}
	return q.delete(entries)
}

// ChangeVisibility implements backend.Queue.
func (h *Queue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := h.get()
	if err != nil {
		return nil, err
	}
	return q.changeVisibility(entries)
}
