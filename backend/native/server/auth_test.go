package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// Accounts and keys of the authentication tests.
const (
	ownerAcct   = "111111111111"
	otherAcct   = "222222222222"
	ownerKey    = "AKIDOWNER"
	ownerSecret = "owner-secret"
	otherKey    = "AKIDOTHER"
	otherSecret = "other-secret"
)

// authEnv is a server with two credentials in two accounts, on a fake
// clock that starts at the real time (SDKs sign with the real clock).
type authEnv struct {
	clock *clockwork.FakeClock
	eng   *native.Engine
	srv   *server.Server
	hs    *httptest.Server
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Now())
	eng, err := native.New(native.Config{Clock: clk, AccountID: ownerAcct, BaseURL: "http://engine.invalid:1"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Service: eng,
		Clock:   clk,
		Credentials: []server.Credential{
			{AccessKeyID: ownerKey, SecretAccessKey: ownerSecret, AccountID: ownerAcct},
			{AccessKeyID: otherKey, SecretAccessKey: otherSecret, AccountID: otherAcct},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Drain()
		hs.Close()
		eng.Close()
	})
	return &authEnv{clock: clk, eng: eng, srv: srv, hs: hs}
}

// client is the SDK's SQS client (JSON protocol) with the key and secret,
// and no retries unless retryer is given.
func (e *authEnv) client(key, secret string, retryer ...aws.Retryer) *sqs.Client {
	var r aws.Retryer = aws.NopRetryer{}
	if len(retryer) > 0 {
		r = retryer[0]
	}
	return sqs.New(sqs.Options{
		BaseEndpoint: aws.String(e.hs.URL),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
		}),
		HTTPClient: e.hs.Client(),
		Retryer:    r,
	})
}

// httpStatus returns the HTTP status of an SDK error.
func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	return re.HTTPStatusCode()
}

func TestAuthSDKRightAndWrongKeys(t *testing.T) {
	e := newAuthEnv(t)
	ctx := t.Context()
	owner := e.client(ownerKey, ownerSecret)
	out, err := owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	u := aws.ToString(out.QueueUrl)
	if !strings.HasPrefix(u, e.hs.URL+"/"+ownerAcct+"/jobs") {
		t.Fatalf("queue URL %s", u)
	}
	if _, err := owner.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: aws.String("héllo wörld & more")}); err != nil {
		t.Fatal(err)
	}
	rcv, err := owner.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &u, WaitTimeSeconds: 0})
	if err != nil || len(rcv.Messages) != 1 {
		t.Fatalf("receive: %v %v", rcv, err)
	}
	if _, err := owner.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &u, ReceiptHandle: rcv.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, key, secret string
		code              string
		status            int
	}{
		{"wrong secret", ownerKey, "not-the-secret", backend.CodeSignatureDoesNotMatch, 403},
		{"unknown key", "AKIDNOBODY", ownerSecret, backend.CodeInvalidClientTokenID, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(tc.key, tc.secret)
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: aws.String("x")})
			if got := apiCode(t, err); got != tc.code {
				t.Fatalf("code %s, want %s (%v)", got, tc.code, err)
			}
			if got := httpStatus(t, err); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
		})
	}
	attrs, err := e.eng.GetAttributes(ctx, u, []string{"ApproximateNumberOfMessages"})
	if err != nil || attrs["ApproximateNumberOfMessages"] != "0" {
		t.Fatalf("refused sends changed the queue: %v %v", attrs, err)
	}
}

// rawResult is what a raw request got back.
type rawResult struct {
	status    int
	code      string // JSON: the x-amzn-query-error code; query: Error/Code
	jsonType  string
	message   string
	date      string
	requestID string
}

func doRaw(t *testing.T, req *http.Request) rawResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := rawResult{status: resp.StatusCode, date: resp.Header.Get("Date"), requestID: resp.Header.Get("X-Amzn-Requestid")}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-amz-json") {
		var m struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &m)
		r.jsonType, r.message = m.Type, m.Message
		r.code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-Query-Error"), ";")
		return r
	}
	var x struct {
		Error struct {
			Code    string
			Message string
		}
	}
	_ = xml.Unmarshal(body, &x)
	r.code, r.message = x.Error.Code, x.Error.Message
	return r
}

func jsonRequest(t *testing.T, base, action, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	return req
}

func formRequest(t *testing.T, base, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// sign signs req with the SDK's SigV4 signer at time at.
func sign(t *testing.T, req *http.Request, key, secret string, at time.Time) {
	t.Helper()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "sqs", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuthErrorsBothProtocols(t *testing.T) {
	e := newAuthEnv(t)
	now := e.clock.Now()
	goodJSON := func() *http.Request { return jsonRequest(t, e.hs.URL, "ListQueues", "{}") }
	goodForm := func() *http.Request { return formRequest(t, e.hs.URL, "Action=ListQueues&Version=2012-11-05") }
	signed := func(mk func() *http.Request, key, secret string, at time.Time) func() *http.Request {
		return func() *http.Request {
			r := mk()
			sign(t, r, key, secret, at)
			return r
		}
	}
	withAuth := func(mk func() *http.Request, h string) func() *http.Request {
		return func() *http.Request {
			r := mk()
			r.Header.Set("Authorization", h)
			r.Header.Set("X-Amz-Date", now.UTC().Format("20060102T150405Z"))
			return r
		}
	}
	tampered := func(mk func() *http.Request) func() *http.Request {
		return func() *http.Request {
			r := mk()
			sign(t, r, ownerKey, ownerSecret, now)
			b, _ := io.ReadAll(r.Body)
			b = bytes.Replace(b, []byte("ListQueues"), []byte("ListQueuez"), 1) // query: an action that does not exist
			b = bytes.Replace(b, []byte("{}"), []byte("[]"), 1)                 // JSON: other bytes of the same length
			r.Body = io.NopCloser(bytes.NewReader(b))
			return r
		}
	}
	scope := ownerKey + "/" + now.UTC().Format("20060102") + "/us-east-1/sqs/aws4_request"
	sig64 := strings.Repeat("ab", 32)
	type tc struct {
		name    string
		req     func() *http.Request
		status  int
		code    string
		jsonTyp string
		msg     string
	}
	cases := func(proto string, mk func() *http.Request) []tc {
		return []tc{
			{proto + " no auth", mk, 403, "MissingAuthenticationToken", "com.amazon.coral.service#MissingAuthenticationTokenException", "Request is missing Authentication Token"},
			{proto + " right key", signed(mk, ownerKey, ownerSecret, now), 200, "", "", ""},
			{proto + " wrong secret", signed(mk, ownerKey, "wrong", now), 403, "SignatureDoesNotMatch", "com.amazon.coral.service#InvalidSignatureException", "The request signature we calculated does not match"},
			{proto + " unknown key", signed(mk, "AKIDNOBODY", ownerSecret, now), 403, "InvalidClientTokenId", "com.amazon.coral.service#UnrecognizedClientException", "The security token included in the request is invalid."},
			{proto + " 16 minutes old", signed(mk, ownerKey, ownerSecret, now.Add(-16*time.Minute)), 403, "SignatureDoesNotMatch", "com.amazon.coral.service#InvalidSignatureException", "Signature expired: "},
			{proto + " 16 minutes ahead", signed(mk, ownerKey, ownerSecret, now.Add(16*time.Minute)), 403, "SignatureDoesNotMatch", "", "Signature not yet current: "},
			{proto + " 14 minutes old", signed(mk, ownerKey, ownerSecret, now.Add(-14*time.Minute)), 200, "", "", ""},
			{proto + " body changed", tampered(mk), 403, "SignatureDoesNotMatch", "", "The request signature we calculated does not match"},
			{proto + " no Credential", withAuth(mk, "AWS4-HMAC-SHA256 SignedHeaders=host, Signature="+sig64), 400, "IncompleteSignature", "com.amazon.coral.service#IncompleteSignatureException", "Authorization header requires 'Credential' parameter."},
			{proto + " no Signature", withAuth(mk, "AWS4-HMAC-SHA256 Credential="+scope+", SignedHeaders=host"), 400, "IncompleteSignature", "", "Authorization header requires 'Signature' parameter."},
			{proto + " garbage", withAuth(mk, "AWS4-HMAC-SHA256 garbage"), 400, "IncompleteSignature", "", "not a valid key=value pair"},
			{proto + " other algorithm", withAuth(mk, "AWS3 Credential=x"), 400, "IncompleteSignature", "", "Unsupported AWS 'algorithm'"},
			{proto + " short credential", withAuth(mk, "AWS4-HMAC-SHA256 Credential=AKID/2020, SignedHeaders=host, Signature="+sig64), 400, "IncompleteSignature", "", "Credential must have exactly 5"},
			{proto + " short signature", withAuth(mk, "AWS4-HMAC-SHA256 Credential="+scope+", SignedHeaders=host, Signature=abc"), 400, "IncompleteSignature", "", "Signature must be 64"},
			{proto + " host not signed", withAuth(mk, "AWS4-HMAC-SHA256 Credential="+scope+", SignedHeaders=x-amz-date, Signature="+sig64), 403, "SignatureDoesNotMatch", "", "'Host' or ':authority' must be a 'SignedHeader'"},
			{proto + " other service", withAuth(mk, "AWS4-HMAC-SHA256 Credential="+strings.Replace(scope, "/sqs/", "/sns/", 1)+", SignedHeaders=host, Signature="+sig64), 403, "SignatureDoesNotMatch", "", "Credential should be scoped to correct service: 'sqs'."},
			{proto + " date outside scope", withAuth(mk, "AWS4-HMAC-SHA256 Credential="+ownerKey+"/19990101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature="+sig64), 403, "SignatureDoesNotMatch", "", "Date in Credential scope does not match"},
		}
	}
	all := append(cases("json", goodJSON), cases("query", goodForm)...)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			got := doRaw(t, c.req())
			if got.status != c.status || got.code != c.code {
				t.Fatalf("got %d %s (%s), want %d %s", got.status, got.code, got.message, c.status, c.code)
			}
			if c.jsonTyp != "" && strings.HasPrefix(c.name, "json") && got.jsonType != c.jsonTyp {
				t.Errorf("__type %s, want %s", got.jsonType, c.jsonTyp)
			}
			if !strings.Contains(got.message, c.msg) {
				t.Errorf("message %q does not contain %q", got.message, c.msg)
			}
			if got.requestID == "" {
				t.Error("no request id")
			}
			if d, err := http.ParseTime(got.date); err != nil || !d.Equal(now.Truncate(time.Second)) {
				t.Errorf("Date %q, want the server clock's %v", got.date, now.UTC())
			}
		})
	}
}

func TestAuthSkewMessageAndSDKCorrection(t *testing.T) {
	e := newAuthEnv(t)
	ctx := t.Context()
	e.clock.Advance(20 * time.Minute) // the server is 20 minutes ahead
	_, err := e.client(ownerKey, ownerSecret).ListQueues(ctx, &sqs.ListQueuesInput{})
	if apiCode(t, err) != backend.CodeSignatureDoesNotMatch || !strings.Contains(err.Error(), "Signature expired: ") ||
		!strings.Contains(err.Error(), " - 15 min.)") {
		t.Fatalf("skewed request: %v", err)
	}
	// With its standard retryer the SDK reads the Date of the refusal,
	// corrects its clock, and the retry succeeds.
	c := e.client(ownerKey, ownerSecret, retry.NewStandard())
	if _, err := c.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("the SDK did not correct its clock from the Date header: %v", err)
	}
}

// presign returns a presigned URL (and its signed headers) for req.
func presign(t *testing.T, req *http.Request, payloadHash, key, secret string, at time.Time, expires time.Duration) (string, http.Header) {
	t.Helper()
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "60")
	if expires > 0 {
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	}
	req.URL.RawQuery = q.Encode()
	u, hdr, err := v4.NewSigner().PresignHTTP(t.Context(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, payloadHash, "sqs", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return u, hdr
}

func TestAuthPresignedURLs(t *testing.T) {
	e := newAuthEnv(t)
	now := e.clock.Now()
	if _, err := e.eng.CreateQueue(native.WithAccount(t.Context(), ownerAcct), "jobs", nil, nil); err != nil {
		t.Fatal(err)
	}
	qurl := e.hs.URL + "/" + ownerAcct + "/jobs"

	get := func(t *testing.T, rawQuery string, secret string, at time.Time, expires time.Duration) rawResult {
		req, _ := http.NewRequest("GET", e.hs.URL+"/?"+rawQuery, nil)
		u, hdr := presign(t, req, hex.EncodeToString(sha256.New().Sum(nil)), ownerKey, secret, at, expires)
		r, _ := http.NewRequest("GET", u, nil)
		for k, v := range hdr {
			if !strings.EqualFold(k, "host") {
				r.Header[k] = v
			}
		}
		return doRaw(t, r)
	}
	send := "Action=SendMessage&Version=2012-11-05&QueueUrl=" + url.QueryEscape(qurl) + "&MessageBody=" + url.QueryEscape("presigned body")
	if got := get(t, send, ownerSecret, now, 0); got.status != 200 {
		t.Fatalf("presigned GET SendMessage: %+v", got)
	}
	if got := get(t, send, "wrong", now, 0); got.status != 403 || got.code != "SignatureDoesNotMatch" {
		t.Fatalf("presigned with the wrong secret: %+v", got)
	}
	if got := get(t, send, ownerSecret, now.Add(-2*time.Minute), 60*time.Second); got.status != 403 || got.code != "SignatureDoesNotMatch" ||
		!strings.HasPrefix(got.message, "Signature expired: ") {
		t.Fatalf("expired presigned URL: %+v", got)
	}
	if got := get(t, send, ownerSecret, now.Add(-2*time.Minute), 300*time.Second); got.status != 200 {
		t.Fatalf("presigned URL within X-Amz-Expires: %+v", got)
	}
	// A presigned URL with a bad X-Amz-Expires is incomplete.
	req, _ := http.NewRequest("GET", e.hs.URL+"/?Action=ListQueues&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/b/c/sqs/aws4_request&X-Amz-Date=20200101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=0&X-Amz-Signature="+strings.Repeat("0", 64), nil)
	if got := doRaw(t, req); got.status != 400 || got.code != "IncompleteSignature" {
		t.Fatalf("bad X-Amz-Expires: %+v", got)
	}
	req, _ = http.NewRequest("GET", e.hs.URL+"/?Action=ListQueues&X-Amz-Algorithm=AWS4-HMAC-SHA256", nil)
	if got := doRaw(t, req); got.status != 400 || got.code != "IncompleteSignature" || !strings.Contains(got.message, "X-Amz-Credential") {
		t.Fatalf("presigned without a credential: %+v", got)
	}

	// A presigned JSON POST, its body signed, and one with UNSIGNED-PAYLOAD.
	for _, unsigned := range []bool{false, true} {
		body := `{"QueueUrl":"` + qurl + `","MessageBody":"json presigned"}`
		req := jsonRequest(t, e.hs.URL, "SendMessage", body)
		hash := sha256.Sum256([]byte(body))
		ph := hex.EncodeToString(hash[:])
		if unsigned {
			ph = "UNSIGNED-PAYLOAD"
		}
		u, hdr := presign(t, req, ph, ownerKey, ownerSecret, now, 0)
		r, _ := http.NewRequest("POST", u, strings.NewReader(body))
		for k, v := range hdr {
			if !strings.EqualFold(k, "host") {
				r.Header[k] = v
			}
		}
		r.Header.Set("X-Amz-Target", "AmazonSQS.SendMessage")
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if got := doRaw(t, r); got.status != 200 {
			t.Fatalf("presigned JSON POST (unsigned payload %v): %+v", unsigned, got)
		}
	}
	attrs, _ := e.eng.GetAttributes(t.Context(), qurl, []string{"ApproximateNumberOfMessages"})
	if attrs["ApproximateNumberOfMessages"] != "4" {
		t.Fatalf("messages sent by presigned URLs: %v, want 4", attrs)
	}
}

func TestAuthUnsignedPayloadRefusedInHeaderAuth(t *testing.T) {
	e := newAuthEnv(t)
	req := jsonRequest(t, e.hs.URL, "ListQueues", "{}")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: ownerKey, SecretAccessKey: ownerSecret},
		req, "UNSIGNED-PAYLOAD", "sqs", "us-east-1", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := doRaw(t, req); got.status != 403 || got.code != "SignatureDoesNotMatch" {
		t.Fatalf("UNSIGNED-PAYLOAD in header auth: %+v", got)
	}
	// A signed X-Amz-Content-Sha256 must match the body.
	req = jsonRequest(t, e.hs.URL, "ListQueues", "{}")
	req.Header.Set("X-Amz-Content-Sha256", emptyHash)
	_ = v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: ownerKey, SecretAccessKey: ownerSecret},
		req, emptyHash, "sqs", "us-east-1", e.clock.Now())
	if got := doRaw(t, req); got.status != 403 || !strings.Contains(got.message, "x-amz-content-sha256") {
		t.Fatalf("x-amz-content-sha256 of another body: %+v", got)
	}
}

const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestAuthAccountsAndCrossAccountAccess(t *testing.T) {
	e := newAuthEnv(t)
	ctx := t.Context()
	owner := e.client(ownerKey, ownerSecret)
	other := e.client(otherKey, otherSecret)

	out, err := owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	u := aws.ToString(out.QueueUrl)
	// The other account's CreateQueue of the same name makes its own queue.
	oout, err := other.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("shared")})
	if err != nil || !strings.Contains(aws.ToString(oout.QueueUrl), "/"+otherAcct+"/shared") {
		t.Fatalf("other's CreateQueue: %v %v", oout, err)
	}
	for _, c := range []struct {
		cl   *sqs.Client
		acct string
	}{{owner, ownerAcct}, {other, otherAcct}} {
		l, err := c.cl.ListQueues(ctx, &sqs.ListQueuesInput{})
		if err != nil || len(l.QueueUrls) != 1 || !strings.Contains(l.QueueUrls[0], "/"+c.acct+"/") {
			t.Fatalf("ListQueues of %s: %v %v", c.acct, l, err)
		}
	}

	denied := func(t *testing.T, what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: allowed, want AccessDenied", what)
		}
		if apiCode(t, err) != backend.CodeAccessDenied || httpStatus(t, err) != 403 {
			t.Fatalf("%s: %v, want 403 AccessDenied", what, err)
		}
	}
	sendOther := func() error {
		_, err := other.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: aws.String("from other")})
		return err
	}
	denied(t, "send without a grant", sendOther())
	_, err = other.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("shared"), QueueOwnerAWSAccountId: aws.String(ownerAcct)})
	denied(t, "GetQueueUrl without a grant", err)
	_, err = other.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.hs.URL + "/" + ownerAcct + "/nonexistent"), MessageBody: aws.String("x")})
	denied(t, "send to another account's missing queue", err)

	// AddPermission grants SendMessage (and GetQueueUrl) to the other account.
	if _, err := owner.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &u, Label: aws.String("send"),
		AWSAccountIds: []string{otherAcct}, Actions: []string{"SendMessage", "GetQueueUrl"}}); err != nil {
		t.Fatal(err)
	}
	if err := sendOther(); err != nil {
		t.Fatalf("send with a grant: %v", err)
	}
	if _, err := other.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &u, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("batch")}}}); err != nil {
		t.Fatalf("SendMessageBatch is authorized as sqs:SendMessage: %v", err)
	}
	g, err := other.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("shared"), QueueOwnerAWSAccountId: aws.String(ownerAcct)})
	if err != nil || !strings.Contains(aws.ToString(g.QueueUrl), "/"+ownerAcct+"/shared") {
		t.Fatalf("GetQueueUrl with a grant: %v %v", g, err)
	}
	_, err = other.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &u})
	denied(t, "receive with only a send grant", err)
	_, err = other.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &u})
	denied(t, "purge with only a send grant", err)

	// A Policy that allows everything still leaves the owner-only actions
	// to the owner; an explicit Deny wins over an Allow.
	pol := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"all","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + otherAcct + `:root"},"Action":"sqs:*","Resource":"arn:aws:sqs:*:` + ownerAcct + `:shared"},
	  {"Sid":"nodelete","Effect":"Deny","Principal":"*","Action":"sqs:DeleteMessage","Resource":"*"}]}`
	if _, err := owner.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &u, Attributes: map[string]string{"Policy": pol}}); err != nil {
		t.Fatal(err)
	}
	rcv, err := other.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &u, MaxNumberOfMessages: 10})
	if err != nil || len(rcv.Messages) != 2 {
		t.Fatalf("receive allowed by Policy: %v %v", rcv, err)
	}
	_, err = other.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &u, ReceiptHandle: rcv.Messages[0].ReceiptHandle})
	denied(t, "delete denied explicitly", err)
	_, err = other.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &u, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: rcv.Messages[0].ReceiptHandle}}})
	denied(t, "DeleteMessageBatch is authorized as sqs:DeleteMessage", err)
	if _, err := other.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &u,
		ReceiptHandle: rcv.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility allowed by sqs:*: %v", err)
	}
	if _, err := other.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []types.QueueAttributeName{"All"}}); err != nil {
		t.Fatalf("GetQueueAttributes allowed by sqs:*: %v", err)
	}
	for name, call := range map[string]func() error{
		"DeleteQueue": func() error { _, err := other.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &u}); return err },
		"SetQueueAttributes": func() error {
			_, err := other.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &u, Attributes: map[string]string{"DelaySeconds": "1"}})
			return err
		},
		"TagQueue": func() error {
			_, err := other.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: &u, Tags: map[string]string{"a": "b"}})
			return err
		},
		"ListQueueTags": func() error { _, err := other.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: &u}); return err },
		"AddPermission": func() error {
			_, err := other.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &u, Label: aws.String("x"), AWSAccountIds: []string{otherAcct}, Actions: []string{"*"}})
			return err
		},
		"RemovePermission": func() error {
			_, err := other.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: &u, Label: aws.String("all")})
			return err
		},
		"StartMessageMoveTask": func() error {
			_, err := other.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:" + ownerAcct + ":shared")})
			return err
		},
		"ListMessageMoveTasks": func() error {
			_, err := other.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:" + ownerAcct + ":shared")})
			return err
		},
	} {
		denied(t, "owner-only "+name, call())
	}
	// The owner is allowed everything, whatever its policy says.
	if _, err := owner.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &u, ReceiptHandle: rcv.Messages[1].ReceiptHandle}); err != nil {
		t.Fatalf("owner's delete: %v", err)
	}
}

func TestAuthPolicyLimitsOverTheWire(t *testing.T) {
	e := newAuthEnv(t)
	ctx := t.Context()
	owner := e.client(ownerKey, ownerSecret)
	out, err := owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	var sts []string
	for i := range 21 {
		sts = append(sts, `{"Sid":"s`+string(rune('a'+i))+`","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage"}`)
	}
	_, err = owner.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: out.QueueUrl,
		Attributes: map[string]string{"Policy": `{"Statement":[` + strings.Join(sts, ",") + `]}`}})
	if apiCode(t, err) != backend.CodeInvalidAttributeValue || !strings.Contains(err.Error(), "21 statements") {
		t.Fatalf("21 statements: %v", err)
	}
	_, err = owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q2"),
		Attributes: map[string]string{"Policy": `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*","Condition":{"StringEquals":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","k":"1"}}}}`}})
	if apiCode(t, err) != backend.CodeInvalidAttributeValue {
		t.Fatalf("11 conditions: %v", err)
	}
}

func TestAuthCredentialsValidated(t *testing.T) {
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, creds := range [][]server.Credential{
		{{AccessKeyID: "", SecretAccessKey: "s", AccountID: ownerAcct}},
		{{AccessKeyID: "A/B", SecretAccessKey: "s", AccountID: ownerAcct}},
		{{AccessKeyID: "A", SecretAccessKey: "", AccountID: ownerAcct}},
		{{AccessKeyID: "A", SecretAccessKey: "s", AccountID: "123"}},
		{{AccessKeyID: "A", SecretAccessKey: "s", AccountID: ownerAcct}, {AccessKeyID: "A", SecretAccessKey: "t", AccountID: otherAcct}},
	} {
		if _, err := server.New(server.Config{Service: eng, Credentials: creds}); err == nil {
			t.Errorf("New accepted %+v", creds)
		}
	}
}

func TestDashboardAuthorizer(t *testing.T) {
	e := newAuthEnv(t)
	anon := newEnv(t)
	req := func(remote, auth string) *http.Request {
		r := httptest.NewRequest("GET", "/_postbox/api/queues", nil)
		r.RemoteAddr = remote
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		srv     *server.Server
		token   string
		r       *http.Request
		allowed bool
	}{
		{"anonymous server, remote", anon.srv, "", req("203.0.113.7:5000", ""), true},
		{"credentials, loopback v4", e.srv, "", req("127.0.0.1:5000", ""), true},
		{"credentials, loopback v6", e.srv, "", req("[::1]:5000", ""), true},
		{"credentials, remote", e.srv, "", req("203.0.113.7:5000", ""), false},
		{"credentials, remote, token", e.srv, "tok", req("203.0.113.7:5000", "Bearer tok"), true},
		{"credentials, remote, wrong token", e.srv, "tok", req("203.0.113.7:5000", "Bearer nope"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.srv.DashboardAuthorizer(tc.token)(tc.r, "ListQueues", "")
			if (err == nil) != tc.allowed {
				t.Fatalf("allowed %v, want %v (%v)", err == nil, tc.allowed, err)
			}
			if err != nil && backend.Code(err) != backend.CodeAccessDenied {
				t.Fatalf("error %v, want AccessDenied", err)
			}
		})
	}
}
