package awssqs

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postbox-go/postbox/backend"
)

// Config configures a Service. Its zero value is not usable: Client is
// required.
type Config struct {
	// Client makes the SQS calls. An *sqs.Client satisfies it. Keep the
	// SDK's MD5 checks on (the default); the adapter never turns them off.
	// The adapter never retries, so a client built for it should not
	// either (aws.NopRetryer); callers own retries and backoff.
	Client API

	// SkipAttributeMD5Check turns off the adapter's own check of
	// MD5OfMessageAttributes in SendMessageBatch and ReceiveMessage
	// answers (the SDK checks only bodies). A mismatch fails the call with
	// an InternalFailure *TransportError, as a body mismatch does.
	SkipAttributeMD5Check bool

	// OnClose, when not nil, is called once by Service.Close after every
	// call in flight has returned, for example to close the HTTP client's
	// idle connections. Its error is Close's.
	OnClose func() error
}

// Service is the AWS adapter: a backend.Service over an SQS client. It is
// safe for concurrent use.
type Service struct {
	api        API
	onClose    func() error
	checkAttrs bool

	// closing ends pending long polls when Close is called.
	closing context.Context
	cancel  context.CancelFunc

	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

var (
	_ backend.Service = (*Service)(nil)
	_ backend.Queue   = (*Queue)(nil)
)

// New returns a Service that makes its calls with cfg.Client.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil {
		return nil, errors.New("awssqs: Config.Client is nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{api: cfg.Client, onClose: cfg.OnClose, checkAttrs: !cfg.SkipAttributeMD5Check, closing: ctx, cancel: cancel}, nil
}

// errClosed is what calls on a closed Service return.
func errClosed() error {
	return backend.NewError(backend.CodeServiceUnavailable, "The postbox AWS adapter is closed.")
}

// begin registers a call; the caller calls s.inflight.Done when it returns.
func (s *Service) begin() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed()
	}
	s.inflight.Add(1)
	return nil
}

// Close ends pending long polls (they return no messages), waits for the
// calls in flight to return, and then calls Config.OnClose. Later calls
// fail with ServiceUnavailable. It is idempotent: every call returns the
// first one's result.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.inflight.Wait()
		if s.onClose != nil {
			s.closeErr = s.onClose()
		}
	})
	return s.closeErr
}

// Queue returns the message operations of the queue at queueURL, which must
// be an absolute URL (as CreateQueue and QueueURL return). It does not check
// that the queue exists; its operations do.
func (s *Service) Queue(queueURL string) (backend.Queue, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, backend.NewError(backend.CodeQueueDoesNotExist,
			"The specified queue does not exist: %q is not a queue URL (want scheme://host/ACCOUNT/NAME).", queueURL)
	}
	return &Queue{svc: s, url: queueURL}, nil
}

// CreateQueue implements backend.Service with CreateQueue.
func (s *Service) CreateQueue(ctx context.Context, name string, attrs backend.Attributes, tags map[string]string) (string, error) {
	if err := s.begin(); err != nil {
		return "", err
	}
	defer s.inflight.Done()
	out, err := s.api.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs, Tags: tags})
	if err != nil {
		return "", mapError(ctx, err)
	}
	return deref(out.QueueUrl), nil
}

// DeleteQueue implements backend.Service with DeleteQueue.
func (s *Service) DeleteQueue(ctx context.Context, queueURL string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	_, err := s.api.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &queueURL})
	return mapError(ctx, err)
}

// QueueURL implements backend.Service with GetQueueUrl.
func (s *Service) QueueURL(ctx context.Context, name, ownerAccountID string) (string, error) {
	if err := s.begin(); err != nil {
		return "", err
	}
	defer s.inflight.Done()
	out, err := s.api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name, QueueOwnerAWSAccountId: nonEmpty(ownerAccountID)})
	if err != nil {
		return "", mapError(ctx, err)
	}
	return deref(out.QueueUrl), nil
}

// ListQueues implements backend.Service with ListQueues. MaxResults 0 sends
// none, so SQS returns up to 1,000 queues without paging.
func (s *Service) ListQueues(ctx context.Context, req backend.ListQueuesRequest) (backend.ListQueuesResult, error) {
	if err := s.begin(); err != nil {
		return backend.ListQueuesResult{}, err
	}
	defer s.inflight.Done()
	out, err := s.api.ListQueues(ctx, &sqs.ListQueuesInput{
		QueueNamePrefix: nonEmpty(req.Prefix),
		MaxResults:      optional32(req.MaxResults),
		NextToken:       nonEmpty(req.NextToken),
	})
	if err != nil {
		return backend.ListQueuesResult{}, mapError(ctx, err)
	}
	return backend.ListQueuesResult{QueueURLs: nonNil(out.QueueUrls), NextToken: deref(out.NextToken)}, nil
}

// GetAttributes implements backend.Service with GetQueueAttributes.
func (s *Service) GetAttributes(ctx context.Context, queueURL string, names []string) (backend.Attributes, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	in := &sqs.GetQueueAttributesInput{QueueUrl: &queueURL}
	if names != nil {
		in.AttributeNames = make([]types.QueueAttributeName, len(names))
		for i, n := range names {
			in.AttributeNames[i] = types.QueueAttributeName(n)
		}
	}
	out, err := s.api.GetQueueAttributes(ctx, in)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	attrs := backend.Attributes(out.Attributes)
	if attrs == nil {
		attrs = backend.Attributes{}
	}
	return attrs, nil
}

// SetAttributes implements backend.Service with SetQueueAttributes.
func (s *Service) SetAttributes(ctx context.Context, queueURL string, attrs backend.Attributes) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if attrs == nil {
		attrs = backend.Attributes{} // required by the SDK; SQS judges it
	}
	_, err := s.api.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &queueURL, Attributes: attrs})
	return mapError(ctx, err)
}

// Purge implements backend.Service with PurgeQueue.
func (s *Service) Purge(ctx context.Context, queueURL string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	_, err := s.api.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &queueURL})
	return mapError(ctx, err)
}

// TagQueue implements backend.Service with TagQueue.
func (s *Service) TagQueue(ctx context.Context, queueURL string, tags map[string]string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if tags == nil {
		tags = map[string]string{} // required by the SDK; SQS judges it
	}
	_, err := s.api.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: &queueURL, Tags: tags})
	return mapError(ctx, err)
}

// UntagQueue implements backend.Service with UntagQueue.
func (s *Service) UntagQueue(ctx context.Context, queueURL string, keys []string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if keys == nil {
		keys = []string{} // required by the SDK; SQS judges it
	}
	_, err := s.api.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: &queueURL, TagKeys: keys})
	return mapError(ctx, err)
}

// ListTags implements backend.Service with ListQueueTags.
func (s *Service) ListTags(ctx context.Context, queueURL string) (map[string]string, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	out, err := s.api.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: &queueURL})
	if err != nil {
		return nil, mapError(ctx, err)
	}
	if out.Tags == nil {
		return map[string]string{}, nil
	}
	return out.Tags, nil
}

// ListDeadLetterSourceQueues implements backend.Service with
// ListDeadLetterSourceQueues. SQS has no name prefix for this call: a
// req.Prefix is applied to each page the service returns, so a page may
// come back short (or empty) while NextToken says there are more.
func (s *Service) ListDeadLetterSourceQueues(ctx context.Context, queueURL string, req backend.ListQueuesRequest) (backend.ListQueuesResult, error) {
	if err := s.begin(); err != nil {
		return backend.ListQueuesResult{}, err
	}
	defer s.inflight.Done()
	out, err := s.api.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{
		QueueUrl:   &queueURL,
		MaxResults: optional32(req.MaxResults),
		NextToken:  nonEmpty(req.NextToken),
	})
	if err != nil {
		return backend.ListQueuesResult{}, mapError(ctx, err)
	}
	urls := nonNil(out.QueueUrls)
	if req.Prefix != "" {
		kept := urls[:0:0]
		for _, u := range urls {
			if strings.HasPrefix(u[strings.LastIndexByte(u, '/')+1:], req.Prefix) {
				kept = append(kept, u)
			}
		}
		urls = kept
	}
	return backend.ListQueuesResult{QueueURLs: urls, NextToken: deref(out.NextToken)}, nil
}

// StartMessageMoveTask implements backend.Service with
// StartMessageMoveTask.
func (s *Service) StartMessageMoveTask(ctx context.Context, req backend.MoveTaskRequest) (string, error) {
	if err := s.begin(); err != nil {
		return "", err
	}
	defer s.inflight.Done()
	out, err := s.api.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn:                    &req.SourceARN,
		DestinationArn:               nonEmpty(req.DestinationARN),
		MaxNumberOfMessagesPerSecond: optional32(req.MaxNumberOfMessagesPerSecond),
	})
	if err != nil {
		return "", mapError(ctx, err)
	}
	return deref(out.TaskHandle), nil
}

// CancelMessageMoveTask implements backend.Service with
// CancelMessageMoveTask.
func (s *Service) CancelMessageMoveTask(ctx context.Context, taskHandle string) (int64, error) {
	if err := s.begin(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	out, err := s.api.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: &taskHandle})
	if err != nil {
		return 0, mapError(ctx, err)
	}
	return out.ApproximateNumberOfMessagesMoved, nil
}

// ListMessageMoveTasks implements backend.Service with
// ListMessageMoveTasks. maxResults 0 sends none (SQS then returns one task).
func (s *Service) ListMessageMoveTasks(ctx context.Context, sourceARN string, maxResults int) ([]backend.MoveTask, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	out, err := s.api.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{
		SourceArn:  &sourceARN,
		MaxResults: optional32(maxResults),
	})
	if err != nil {
		return nil, mapError(ctx, err)
	}
	tasks := make([]backend.MoveTask, len(out.Results))
	for i, r := range out.Results {
		tasks[i] = backend.MoveTask{
			TaskHandle:                        deref(r.TaskHandle),
			Status:                            deref(r.Status),
			SourceARN:                         deref(r.SourceArn),
			DestinationARN:                    deref(r.DestinationArn),
			ApproximateNumberOfMessagesMoved:  r.ApproximateNumberOfMessagesMoved,
			ApproximateNumberOfMessagesToMove: deref(r.ApproximateNumberOfMessagesToMove),
			FailureReason:                     deref(r.FailureReason),
		}
		if r.MaxNumberOfMessagesPerSecond != nil {
			tasks[i].MaxNumberOfMessagesPerSecond = int(*r.MaxNumberOfMessagesPerSecond)
		}
		if r.StartedTimestamp != 0 {
			tasks[i].StartedTimestamp = time.UnixMilli(r.StartedTimestamp)
		}
	}
	return tasks, nil
}

// AddPermission implements backend.Service with AddPermission.
func (s *Service) AddPermission(ctx context.Context, req backend.PermissionRequest) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	_, err := s.api.AddPermission(ctx, &sqs.AddPermissionInput{
		QueueUrl:      &req.QueueURL,
		Label:         &req.Label,
		AWSAccountIds: nonNil(req.AccountIDs),
		Actions:       nonNil(req.Actions),
	})
	return mapError(ctx, err)
}

// RemovePermission implements backend.Service with RemovePermission.
func (s *Service) RemovePermission(ctx context.Context, queueURL, label string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.inflight.Done()
	_, err := s.api.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: &queueURL, Label: &label})
	return mapError(ctx, err)
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// given returns s when it is not empty or set says it was given (an empty
// id, which SQS rejects, is sent for SQS to reject); nil otherwise.
func given(s string, set bool) *string {
	if s == "" && !set {
		return nil
	}
	return &s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// optional32 is nil for n == 0 (the parameter is left out) and n clamped
// to int32 otherwise: a negative n is sent for the service to reject.
func optional32(n int) *int32 {
	if n == 0 {
		return nil
	}
	v := clamp32(n)
	return &v
}

// clamp32 converts n to int32, saturating, so that an out-of-range value
// stays out of range for the service to reject rather than wrapping into
// range.
func clamp32(n int) int32 {
	switch {
	case n > 1<<31-1:
		return 1<<31 - 1
	case n < -1<<31:
		return -1 << 31
	}
	return int32(n)
}
