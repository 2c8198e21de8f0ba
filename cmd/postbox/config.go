package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native/server"
)

// fileConfig is the JSON config file of postbox serve (and the format of
// --credentials-file, which may hold only credentials).
type fileConfig struct {
	// Server holds settings of postbox serve by flag name ("addr",
	// "data-dir", "ui", "max-long-polls", ...); a flag given on the command
	// line wins over the file.
	Server map[string]json.RawMessage `json:"server"`
	Queues []queueConfig              `json:"queues"`
	// Credentials turn SigV4 authentication on (see docs/security.md).
	Credentials []credentialConfig `json:"credentials"`
}

// applyServerSettings sets the flags that the config file's "server"
// object names and the command line did not give. Values are JSON strings,
// numbers or booleans, parsed as the flag parses them ("30s", 5000, false).
func applyServerSettings(fs *pflag.FlagSet, cfg *fileConfig, path string) error {
	for _, name := range slices.Sorted(maps.Keys(cfg.Server)) {
		f := fs.Lookup(name)
		if f == nil || name == "config" || name == "help" {
			return fmt.Errorf("%s: server: %q is not a setting of postbox serve (see postbox serve --help)", path, name)
		}
		if f.Changed {
			continue // the command line wins
		}
		raw := cfg.Server[name]
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: server: %s: %w", path, name, err)
		}
		var text string
		switch v := v.(type) {
		case string:
			text = v
		case float64, bool:
			text = string(bytes.TrimSpace(raw))
		default:
			return fmt.Errorf("%s: server: %s: want a string, a number or a boolean", path, name)
		}
		if err := fs.Set(name, text); err != nil {
			return fmt.Errorf("%s: server: %s: %w", path, name, err)
		}
	}
	return nil
}

// credentialConfig is one access key postbox serve accepts.
type credentialConfig struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// AccountID is the key's 12-digit account (default: --account-id).
	AccountID string `json:"accountId"`
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
	keys := map[string]bool{}
	for i, c := range cfg.Credentials {
		switch {
		case c.AccessKeyID == "" || strings.ContainsAny(c.AccessKeyID, "/ ,="):
			return nil, fmt.Errorf("%s: credentials[%d]: accessKeyId must be non-empty, without '/', ',', '=' or spaces", path, i)
		case c.SecretAccessKey == "":
			return nil, fmt.Errorf("%s: credentials[%d] (%s): secretAccessKey is empty", path, i, c.AccessKeyID)
		case c.AccountID != "" && !backend.IsAccountID(c.AccountID):
			return nil, fmt.Errorf("%s: credentials[%d] (%s): accountId must be 12 digits", path, i, c.AccessKeyID)
		case keys[c.AccessKeyID]:
			return nil, fmt.Errorf("%s: credentials: access key %s is given twice", path, c.AccessKeyID)
		}
		keys[c.AccessKeyID] = true
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

// Environment variables that give postbox serve one credential.
const (
	envAccessKeyID     = "POSTBOX_ACCESS_KEY_ID"
	envSecretAccessKey = "POSTBOX_SECRET_ACCESS_KEY"
	envAccountID       = "POSTBOX_ACCOUNT_ID"
)

// serveCredentials gathers the credentials of postbox serve: those of the
// config file, of the credentials file, and the one of the environment
// (POSTBOX_ACCESS_KEY_ID, POSTBOX_SECRET_ACCESS_KEY and optionally
// POSTBOX_ACCOUNT_ID). A credential without an account id belongs to
// defaultAccount. An access key given twice is an error.
func serveCredentials(cfg *fileConfig, credFile string, getenv func(string) string, defaultAccount string) ([]server.Credential, error) {
	var all []credentialConfig
	if cfg != nil {
		all = append(all, cfg.Credentials...)
	}
	if credFile != "" {
		cf, err := loadConfig(credFile)
		if err != nil {
			return nil, err
		}
		if len(cf.Queues) > 0 {
			return nil, fmt.Errorf("%s: a credentials file holds only \"credentials\", not queues", credFile)
		}
		if len(cf.Credentials) == 0 {
			return nil, fmt.Errorf("%s: no credentials in the credentials file", credFile)
		}
		all = append(all, cf.Credentials...)
	}
	id, secret := getenv(envAccessKeyID), getenv(envSecretAccessKey)
	if (id == "") != (secret == "") {
		return nil, fmt.Errorf("set both %s and %s, or neither", envAccessKeyID, envSecretAccessKey)
	}
	if id != "" {
		acct := getenv(envAccountID)
		if acct != "" && !backend.IsAccountID(acct) {
			return nil, fmt.Errorf("%s must be 12 digits, got %q", envAccountID, acct)
		}
		all = append(all, credentialConfig{AccessKeyID: id, SecretAccessKey: secret, AccountID: acct})
	} else if getenv(envAccountID) != "" {
		return nil, fmt.Errorf("%s is set without %s and %s", envAccountID, envAccessKeyID, envSecretAccessKey)
	}
	out := make([]server.Credential, 0, len(all))
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.AccessKeyID] {
			return nil, fmt.Errorf("access key %s is given twice (config file, credentials file, environment)", c.AccessKeyID)
		}
		seen[c.AccessKeyID] = true
		acct := c.AccountID
		if acct == "" {
			acct = defaultAccount
		}
		out = append(out, server.Credential{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, AccountID: acct})
	}
	return out, nil
}

// secretFileWarning returns a warning when a file holding secrets may be
// read by other users, or "".
func secretFileWarning(path string) string {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds secret keys but is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
}

// exposedAddr reports whether a listen address (host:port) is reachable
// from other machines: an empty host, an unspecified address (0.0.0.0,
// ::), any address that is not a loopback address, or a host name that
// resolves to one. "localhost" and 127.0.0.0/8 and ::1 are not exposed.
func exposedAddr(ctx context.Context, addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "" {
		return true, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return !ip.IsLoopback(), nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return true, nil
		}
	}
	return len(ips) == 0, nil
}
