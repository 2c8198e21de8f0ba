package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/policy"
)

// Credential is an access key the server accepts: requests signed with it
// (AWS Signature Version 4) act as the root of its account.
type Credential struct {
	// AccessKeyID is the key id clients send, e.g. "AKIAIOSFODNN7EXAMPLE".
	AccessKeyID string
	// SecretAccessKey is the secret they sign with.
	SecretAccessKey string
	// AccountID is the 12-digit account the key belongs to: the queues it
	// creates and lists are that account's.
	AccountID string
}

// checkCredentials validates cfg.Credentials and indexes them by key id.
func checkCredentials(creds []Credential) (map[string]Credential, error) {
	if len(creds) == 0 {
		return nil, nil
	}
	m := make(map[string]Credential, len(creds))
	for i, c := range creds {
		switch {
		case c.AccessKeyID == "" || strings.ContainsAny(c.AccessKeyID, "/ ,="):
			return nil, fmt.Errorf("server: Credentials[%d]: AccessKeyID must be non-empty without '/', ',', '=' or spaces", i)
		case c.SecretAccessKey == "":
			return nil, fmt.Errorf("server: Credentials[%d] (%s): SecretAccessKey is empty", i, c.AccessKeyID)
		case !backend.IsAccountID(c.AccountID):
			return nil, fmt.Errorf("server: Credentials[%d] (%s): AccountID must be 12 digits, got %q", i, c.AccessKeyID, c.AccountID)
		}
		if _, dup := m[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("server: Credentials: access key %s is given twice", c.AccessKeyID)
		}
		m[c.AccessKeyID] = c
	}
	return m, nil
}

// principal is the authenticated caller of a request.
type principal struct {
	accessKeyID string
	account     string
	srv         *Server
	r           *http.Request
	now         time.Time
}

// conditionKeys returns the policy condition keys of the request; they
// are needed only for requests on other accounts' queues.
func (p *principal) conditionKeys() map[string]string {
	m := map[string]string{
		"aws:principalaccount": p.account,
		"aws:principalarn":     "arn:aws:iam::" + p.account + ":root",
		"aws:principaltype":    "Account",
		"aws:securetransport":  fmt.Sprint(p.r.TLS != nil),
		"aws:currenttime":      p.now.UTC().Format(time.RFC3339),
		"aws:useragent":        p.r.UserAgent(),
	}
	if ap, err := netip.ParseAddrPort(p.r.RemoteAddr); err == nil {
		m["aws:sourceip"] = ap.Addr().Unmap().String()
	}
	return m
}

// hashingBody hashes a request body as it is read.
type hashingBody struct {
	rc  io.ReadCloser
	h   hash.Hash
	eof bool // the whole body has been read
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *hashingBody) Close() error { return b.rc.Close() }

// authenticate checks what of r's signature can be checked before its body
// is read: that it has one, that it parses, that its key is known and its
// time is within 15 minutes. It sets c.principal, c.ctx's account and
// c.verify, which checks the signature itself once the body has been read.
func (s *Server) authenticate(r *http.Request, c *call, now time.Time) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return backend.NewError(codeMalformedQueryString, "The query string is malformed: %v.", err)
	}
	if !hasSigV4(r, q) {
		return backend.NewError(backend.CodeMissingAuthenticationToken, msgMissingToken)
	}
	sig, err := parseSigV4(r, q)
	if err != nil {
		return err
	}
	cred, ok := s.creds[sig.accessKeyID]
	if !ok {
		return backend.NewError(backend.CodeInvalidClientTokenID, msgInvalidToken)
	}
	if err := sig.checkScope(); err != nil {
		return err
	}
	if err := sig.checkTime(now); err != nil {
		return err
	}
	c.principal = &principal{accessKeyID: cred.AccessKeyID, account: cred.AccountID, srv: s, r: r, now: now}
	c.ctx = native.WithAccount(c.ctx, cred.AccountID)
	body := &hashingBody{rc: r.Body, h: sha256.New()}
	if r.Body == nil {
		body.rc = http.NoBody
	}
	r.Body = body
	limit := s.maxBytes
	c.bodyRead = func() bool { return body.eof }
	c.verify = func() error {
		// Hash what the decoder left unread (nothing, normally).
		if _, err := io.Copy(io.Discard, io.LimitReader(body, limit+1)); err != nil {
			return backend.NewError(codeSerializationException, "Could not read the request body: %v", err)
		}
		return sig.verify(r, q, s.signingKey(cred, sig), hex.EncodeToString(body.h.Sum(nil)))
	}
	return nil
}

// maxSigningKeys bounds the cache of derived signing keys.
const maxSigningKeys = 1024

// signingKey returns the signing key of the credential for the scope of
// sig, derived once per key, day and region. Only keys of requests that
// verified are kept, so strangers cannot grow the cache.
func (s *Server) signingKey(cred Credential, sig *sigv4Request) *signingKeyEntry {
	id := cred.AccessKeyID + "/" + sig.scopeDate + "/" + sig.region + "/" + sig.service
	if k, ok := s.sigKeys.Load(id); ok {
		return k.(*signingKeyEntry)
	}
	return &signingKeyEntry{
		key: signingKey(cred.SecretAccessKey, sig.scopeDate, sig.region, sig.service),
		keep: func(e *signingKeyEntry) {
			if s.nSigKeys.Add(1) > maxSigningKeys {
				s.sigKeys.Clear()
				s.nSigKeys.Store(1)
			}
			s.sigKeys.Store(id, &signingKeyEntry{key: e.key}) // cached entries keep nothing more
		},
	}
}

// signingKeyEntry is a derived signing key; keep, when not nil, caches it
// (called once the key has verified a request).
type signingKeyEntry struct {
	key  []byte
	keep func(*signingKeyEntry)
}

// checkSignature runs c.verify once: before an action runs, after its
// input has been read.
func (c *call) checkSignature() error {
	if c.verify == nil {
		return nil
	}
	v := c.verify
	c.verify = nil
	return v()
}

// signatureFirst returns the signature's error in place of err, the error
// of a request refused before its action ran, when the signature does not
// match: a request that is not authentic learns nothing about why else it
// would fail. A body that was not read to its end (one over the size
// limit) cannot be checked, and err stands.
func (c *call) signatureFirst(err error) error {
	if c.verify == nil || c.bodyRead == nil || !c.bodyRead() {
		return err
	}
	if serr := c.checkSignature(); serr != nil {
		return serr
	}
	return err
}

// ownerOnly are the actions that cross-account permissions do not apply to
// (SQS Developer Guide, "Limitations of Amazon SQS custom policies"): only
// the queue's own account may call them.
var ownerOnly = map[string]bool{
	"AddPermission": true, "CancelMessageMoveTask": true, "CreateQueue": true, "DeleteQueue": true,
	"ListMessageMoveTasks": true, "ListQueues": true, "ListQueueTags": true, "RemovePermission": true,
	"SetQueueAttributes": true, "StartMessageMoveTask": true, "TagQueue": true, "UntagQueue": true,
}

// iamAction is the IAM action a request is authorized as: batch actions
// as their single-message names.
func iamAction(action string) string {
	switch action {
	case "SendMessageBatch":
		action = "SendMessage"
	case "DeleteMessageBatch":
		action = "DeleteMessage"
	case "ChangeMessageVisibilityBatch":
		action = "ChangeMessageVisibility"
	}
	return "sqs:" + action
}

// queueAccount returns the account of a queue URL's /ACCOUNT/NAME path.
func queueAccount(u string) (string, bool) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	parts := strings.Split(strings.Trim(pu.Path, "/"), "/")
	if len(parts) != 2 || !backend.IsAccountID(parts[0]) || parts[1] == "" {
		return "", false
	}
	return parts[0], true
}

// authorize checks that the caller may run c.action on the queue at u:
// always for the queue's own account (like an IAM administrator); for
// another account only when the queue's Policy allows the action, and
// never for the owner-only actions.
func (c *call) authorize(u string) error {
	p := c.principal
	if p == nil {
		return nil
	}
	acct, ok := queueAccount(u)
	if !ok {
		return errNoQueue()
	}
	if acct == p.account {
		return nil
	}
	denied := func() error {
		return backend.NewError(backend.CodeAccessDenied, "Access to the resource %s is denied.", c.publicURL(u))
	}
	if ownerOnly[c.action] {
		return denied()
	}
	attrs, err := p.srv.svc.GetAttributes(c.ctx, u, []string{"Policy", "QueueArn"})
	if err != nil {
		if backend.Code(err) == backend.CodeQueueDoesNotExist {
			return denied() // do not tell other accounts which queues exist
		}
		return err
	}
	pol, err := policy.Parse(attrs["Policy"])
	if err != nil {
		return denied() // a stored policy that no longer parses grants nothing
	}
	d := pol.Evaluate(policy.Request{Account: p.account, Action: iamAction(c.action), Resource: attrs["QueueArn"], Context: p.conditionKeys()})
	if d != policy.Allowed {
		return denied()
	}
	return nil
}

// authorizeARN checks that an owner-only action naming a queue by ARN
// (the move-task actions) names one of the caller's own queues.
func (c *call) authorizeARN(arn string) error {
	p := c.principal
	if p == nil || arn == "" {
		return nil
	}
	parts := strings.Split(arn, ":")
	if len(parts) == 6 && parts[0] == "arn" && parts[4] != p.account {
		return backend.NewError(backend.CodeAccessDenied, "Access to the resource %s is denied.", arn)
	}
	return nil
}

// authorizeTaskHandle checks a CancelMessageMoveTask handle the same way,
// by the source ARN it carries; a handle that does not decode is left to
// the backend to refuse.
func (c *call) authorizeTaskHandle(handle string) error {
	if c.principal == nil {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(handle)
	if err != nil {
		return nil
	}
	var th struct {
		SourceArn string `json:"sourceArn"`
	}
	if json.Unmarshal(raw, &th) != nil {
		return nil
	}
	return c.authorizeARN(th.SourceArn)
}

// writeError answers r with err in the request's protocol.
func writeError(w http.ResponseWriter, buf *bytes.Buffer, err error, isJSON bool, rid string) (int, string) {
	we := toWire(err)
	buf.Reset()
	if isJSON {
		writeJSONError(w, buf, we)
	} else {
		writeXMLError(w, buf, we, rid)
	}
	return we.status, we.queryCode
}

// DashboardAuthorizer returns a function for the dashboard's Authorize
// hook (dashboard.Config.Authorize) that applies the server's
// authentication to the dashboard. Browsers cannot sign requests, so when
// the server has credentials the dashboard is allowed only to clients on
// a loopback address (127.0.0.0/8, ::1), or to requests carrying
// "Authorization: Bearer TOKEN" (or the postbox_ui_token cookie) with
// token when token is not empty. Without credentials everything is
// allowed, as for the SQS API.
func (s *Server) DashboardAuthorizer(token string) func(r *http.Request, action, queueURL string) error {
	return func(r *http.Request, action, queueURL string) error {
		if s.creds == nil {
			return nil
		}
		if token != "" && bearerToken(r) == token {
			return nil
		}
		if isLoopback(r.RemoteAddr) {
			return nil
		}
		return backend.NewError(backend.CodeAccessDenied,
			"The dashboard of a server with credentials is open only to loopback clients or with its --ui-token (action %s).", action)
	}
}

// bearerToken returns the request's bearer token or postbox_ui_token
// cookie.
func bearerToken(r *http.Request) string {
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(h)
	}
	if ck, err := r.Cookie("postbox_ui_token"); err == nil {
		return ck.Value
	}
	return ""
}

// isLoopback reports whether a host:port address is a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
