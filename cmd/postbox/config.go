package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/postbox-go/postbox/backend"
)

// fileConfig is the JSON config file of postbox serve.
type fileConfig struct {
	Queues []queueConfig `json:"queues"`
}

// queueConfig is one queue to create at start.
type queueConfig struct {
	// Name is the queue name; FIFO queues end in ".fifo".
	Name string `json:"name"`
	// Attributes are SQS queue attributes; values may be JSON strings,
	// numbers or booleans.
	Attributes map[string]json.RawMessage `json:"attributes"`
	// DeadLetter wires the queue to a dead-letter queue of this file (or
	// one given by ARN); it is shorthand for the RedrivePolicy attribute.
	DeadLetter *deadLetterConfig `json:"deadLetter"`
	// Tags are the queue's tags.
	Tags map[string]string `json:"tags"`
}

type deadLetterConfig struct {
	Queue           string `json:"queue"` // a queue name or ARN
	MaxReceiveCount int    `json:"maxReceiveCount"`
}

// loadConfig reads and checks a config file. Unknown keys are errors, so
// that a typo does not silently create a queue without its settings.
func loadConfig(path string) (*fileConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, b)
}

func parseConfig(path string, b []byte) (*fileConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg fileConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: text after the JSON object", path)
	}
	seen := map[string]bool{}
	for i, q := range cfg.Queues {
		if q.Name == "" {
			return nil, fmt.Errorf("%s: queues[%d] has no name", path, i)
		}
		if seen[q.Name] {
			return nil, fmt.Errorf("%s: queue %q is named twice", path, q.Name)
		}
		seen[q.Name] = true
		if _, err := q.attributes(); err != nil {
			return nil, fmt.Errorf("%s: queue %q: %w", path, q.Name, err)
		}
		if d := q.DeadLetter; d != nil {
			if d.Queue == "" {
				return nil, fmt.Errorf("%s: queue %q: deadLetter.queue is empty", path, q.Name)
			}
			if d.MaxReceiveCount < 1 {
				return nil, fmt.Errorf("%s: queue %q: deadLetter.maxReceiveCount must be at least 1", path, q.Name)
			}
			if _, raw := q.Attributes["RedrivePolicy"]; raw {
				return nil, fmt.Errorf("%s: queue %q: give deadLetter or the RedrivePolicy attribute, not both", path, q.Name)
			}
		}
	}
	return &cfg, nil
}

// attributes returns the queue's attributes as SQS strings.
func (q *queueConfig) attributes() (backend.Attributes, error) {
	if len(q.Attributes) == 0 {
		return nil, nil
	}
	out := make(backend.Attributes, len(q.Attributes))
	for k, raw := range q.Attributes {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64:
			out[k] = string(bytes.TrimSpace(raw))
		default:
			// Policies may be written as JSON objects.
			if k == "RedrivePolicy" || k == "RedriveAllowPolicy" || k == "Policy" {
				var compact bytes.Buffer
				if err := json.Compact(&compact, raw); err != nil {
					return nil, fmt.Errorf("attribute %s: %w", k, err)
				}
				out[k] = compact.String()
				continue
			}
			return nil, fmt.Errorf("attribute %s: want a string, number or boolean", k)
		}
	}
	return out, nil
}

// apply creates the queues, in two passes so that dead-letter queues may
// be named in any order: first every queue with its attributes (apart from
// its redrive policy) and tags, then the redrive policies.
func (cfg *fileConfig) apply(ctx context.Context, svc backend.Service, log *slog.Logger) error {
	urls := make(map[string]string, len(cfg.Queues))
	redrive := make(map[string]string)
	for _, q := range cfg.Queues {
		attrs, err := q.attributes()
		if err != nil {
			return err
		}
		if rp, ok := attrs["RedrivePolicy"]; ok {
			redrive[q.Name] = rp
			delete(attrs, "RedrivePolicy")
		}
		u, err := svc.CreateQueue(ctx, q.Name, attrs, q.Tags)
		if err != nil {
			return fmt.Errorf("creating queue %q: %w", q.Name, err)
		}
		urls[q.Name] = u
		log.Info("queue created", "name", q.Name, "url", u)
	}
	for _, q := range cfg.Queues {
		rp, ok := redrive[q.Name]
		if d := q.DeadLetter; d != nil {
			arn := d.Queue
			if u, local := urls[d.Queue]; local {
				got, err := svc.GetAttributes(ctx, u, []string{"QueueArn"})
				if err != nil {
					return fmt.Errorf("queue %q: dead-letter queue %q: %w", q.Name, d.Queue, err)
				}
				arn = got["QueueArn"]
			} else if !isARN(arn) {
				return fmt.Errorf("queue %q: dead-letter queue %q is neither a queue of this file nor an ARN", q.Name, d.Queue)
			}
			pol, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": d.MaxReceiveCount})
			rp, ok = string(pol), true
		}
		if !ok {
			continue
		}
		if err := svc.SetAttributes(ctx, urls[q.Name], backend.Attributes{"RedrivePolicy": rp}); err != nil {
			return fmt.Errorf("queue %q: setting its dead-letter queue: %w", q.Name, err)
		}
		log.Info("dead-letter queue set", "name", q.Name, "redrive_policy", rp)
	}
	return nil
}

func isARN(s string) bool {
	return len(s) > 12 && s[:12] == "arn:aws:sqs:"
}
