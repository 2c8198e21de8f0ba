package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// SigV4 constants.
const (
	sigv4Algorithm   = "AWS4-HMAC-SHA256"
	sigv4Terminator  = "aws4_request"
	sigv4Service     = "sqs"
	amzDateFormat    = "20060102T150405Z"
	scopeDateFormat  = "20060102"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	maxClockSkew     = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * time.Hour
	emptySHA256      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sigv4Request is the signature of one request as the client claimed it:
// what the Authorization header (or a presigned URL's query string) says.
type sigv4Request struct {
	presigned     bool
	accessKeyID   string
	scopeDate     string // yyyymmdd
	region        string
	service       string
	signedHeaders []string // lower-case, sorted as sent
	signature     string   // lower-case hex
	date          time.Time
	rawDate       string        // as sent (yyyymmddThhmmssZ)
	expires       time.Duration // presigned only
	payloadHash   string        // X-Amz-Content-Sha256, when sent
}

// Messages of the authentication errors, in AWS's words.
const (
	msgMissingToken      = "Request is missing Authentication Token"
	msgInvalidToken      = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

func errIncomplete(format string, args ...any) *backend.Error {
	return backend.NewError(backend.CodeIncompleteSignature, format, args...)
}

func errMismatch(format string, args ...any) *backend.Error {
	return backend.NewError(backend.CodeSignatureDoesNotMatch, format, args...)
}

// hasSigV4 reports whether r carries any SigV4 authentication: an
// Authorization header or a presigned URL's X-Amz-Algorithm /
// X-Amz-Credential / X-Amz-Signature parameters.
func hasSigV4(r *http.Request, q url.Values) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	return q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
}

// parseSigV4 reads the claimed signature of r, from its Authorization
// header or, when it has none, its query string q. A malformed one is an
// IncompleteSignature error.
func parseSigV4(r *http.Request, q url.Values) (*sigv4Request, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return parseAuthHeader(r, h)
	}
	return parsePresigned(r, q)
}

// parseAuthHeader parses "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthHeader(r *http.Request, h string) (*sigv4Request, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != sigv4Algorithm {
		return nil, errIncomplete("Unsupported AWS 'algorithm': %s; postbox verifies only %s (Signature Version 4). Authorization=%s", strconv.Quote(alg), sigv4Algorithm, truncate(h, 200))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			if strings.TrimSpace(part) == "" {
				continue
			}
			return nil, errIncomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", truncate(strings.TrimSpace(part), 100), truncate(h, 200))
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	rawDate := r.Header.Get("X-Amz-Date")
	if rawDate == "" && r.Header.Get("Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, errIncomplete("%s Authorization=%s", strings.Join(missing, " "), truncate(h, 200))
	}
	s := &sigv4Request{signature: sig, rawDate: rawDate, payloadHash: r.Header.Get("X-Amz-Content-Sha256")}
	if err := s.setCredential(cred); err != nil {
		return nil, err
	}
	if err := s.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	if err := s.setSignature(); err != nil {
		return nil, err
	}
	if rawDate != "" {
		t, err := time.Parse(amzDateFormat, rawDate)
		if err != nil {
			return nil, errIncomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", truncate(rawDate, 40))
		}
		s.date = t
	} else {
		t, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return nil, errIncomplete("Date header %s is not an HTTP date.", strconv.Quote(truncate(r.Header.Get("Date"), 60)))
		}
		s.date = t.UTC()
		s.rawDate = s.date.Format(amzDateFormat)
	}
	return s, nil
}

// parsePresigned parses the X-Amz-* parameters of a presigned URL.
func parsePresigned(r *http.Request, q url.Values) (*sigv4Request, error) {
	var missing []string
	for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if !q.Has(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, errIncomplete("AWS query-string parameters must include %s. Re-examine the query-string parameters.", strings.Join(missing, ", "))
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != sigv4Algorithm {
		return nil, errIncomplete("Unsupported AWS 'algorithm': %s; postbox verifies only %s (Signature Version 4).", strconv.Quote(truncate(alg, 40)), sigv4Algorithm)
	}
	s := &sigv4Request{presigned: true, signature: q.Get("X-Amz-Signature"), rawDate: q.Get("X-Amz-Date")}
	s.payloadHash = q.Get("X-Amz-Content-Sha256")
	if s.payloadHash == "" {
		s.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	}
	if err := s.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if err := s.setSignedHeaders(q.Get("X-Amz-SignedHeaders")); err != nil {
		return nil, err
	}
	if err := s.setSignature(); err != nil {
		return nil, err
	}
	t, err := time.Parse(amzDateFormat, s.rawDate)
	if err != nil {
		return nil, errIncomplete("X-Amz-Date must be in ISO-8601 'basic format'. Got '%s'.", truncate(s.rawDate, 40))
	}
	s.date = t
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n < 1 || time.Duration(n)*time.Second > maxPresignExpiry {
			return nil, errIncomplete("X-Amz-Expires must be a whole number of seconds from 1 to %d, got %s.", int64(maxPresignExpiry/time.Second), strconv.Quote(truncate(e, 40)))
		}
		s.expires = time.Duration(n) * time.Second
	} else {
		s.expires = maxClockSkew
	}
	return s, nil
}

// setCredential parses "AKID/yyyymmdd/region/service/aws4_request".
func (s *sigv4Request) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return errIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", truncate(cred, 120))
	}
	s.accessKeyID, s.scopeDate, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	if parts[4] != sigv4Terminator {
		return errMismatch("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(parts[4], 40))
	}
	return nil
}

// setSignedHeaders parses "host;x-amz-date;..."; host must be among them.
func (s *sigv4Request) setSignedHeaders(v string) error {
	if v == "" {
		return errIncomplete("SignedHeaders is empty; it must name at least the host header.")
	}
	hs := strings.Split(v, ";")
	for _, h := range hs {
		if h == "" || h != strings.ToLower(h) {
			return errIncomplete("SignedHeaders %s must be lower-case header names separated by semicolons.", strconv.Quote(truncate(v, 200)))
		}
	}
	if !slices.Contains(hs, "host") {
		return errMismatch("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	s.signedHeaders = hs
	return nil
}

// setSignature checks the signature is 64 hex digits.
func (s *sigv4Request) setSignature() error {
	if len(s.signature) != 64 {
		return errIncomplete("Signature must be 64 hexadecimal digits, got %d characters.", len(s.signature))
	}
	for i := 0; i < len(s.signature); i++ {
		c := s.signature[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return errIncomplete("Signature must be 64 hexadecimal digits.")
		}
	}
	s.signature = strings.ToLower(s.signature)
	return nil
}

// checkScope checks the credential scope against the request's date and
// the service. Any region is accepted: clients may be configured with any.
func (s *sigv4Request) checkScope() error {
	if s.service != sigv4Service {
		return errMismatch("Credential should be scoped to correct service: '%s'.", sigv4Service)
	}
	if s.scopeDate != s.rawDate[:min(8, len(s.rawDate))] {
		return errMismatch("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			truncate(s.scopeDate, 20), s.rawDate[:min(8, len(s.rawDate))], s.rawDate)
	}
	if s.region == "" {
		return errMismatch("Credential should be scoped to a valid region.")
	}
	return nil
}

// checkTime checks the request time against now: within 15 minutes either
// way, and for a presigned URL not past its expiry.
func (s *sigv4Request) checkTime(now time.Time) error {
	now = now.UTC()
	if s.date.After(now.Add(maxClockSkew)) {
		return errMismatch("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			s.date.Format(amzDateFormat), now.Add(maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if s.presigned {
		if end := s.date.Add(s.expires); now.After(end) {
			return errMismatch("Signature expired: %s is now earlier than %s (%s + %d sec. of X-Amz-Expires)",
				end.Format(amzDateFormat), now.Format(amzDateFormat), s.date.Format(amzDateFormat), int64(s.expires/time.Second))
		}
		return nil
	}
	if s.date.Before(now.Add(-maxClockSkew)) {
		return errMismatch("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			s.date.Format(amzDateFormat), now.Add(-maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	return nil
}

// canonicalRequest builds the canonical request of r for the signed
// headers, with payloadHash as its last line.
func (s *sigv4Request) canonicalRequest(r *http.Request, q url.Values, payloadHash string) string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, true))
	b.WriteByte('\n')
	writeCanonicalQuery(&b, q, s.presigned)
	b.WriteByte('\n')
	for _, h := range s.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// writeCanonicalQuery writes the sorted, encoded query string; a presigned
// URL's X-Amz-Signature is left out.
func writeCanonicalQuery(b *strings.Builder, q url.Values, presigned bool) {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := uriEncode(k, false)
		for _, v := range vs {
			pairs = append(pairs, kv{ek, uriEncode(v, false)})
		}
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
}

// canonicalHeaderValue is the value of the signed header h: the values
// joined with commas, trimmed, with runs of spaces made one.
func canonicalHeaderValue(r *http.Request, h string) string {
	var vals []string
	switch h {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(h)
	}
	for i, v := range vals {
		vals[i] = collapseSpaces(strings.TrimSpace(v))
	}
	return strings.Join(vals, ",")
}

func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// uriEncode percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/'
// when keepSlash), with upper-case hex digits, as SigV4 requires.
func uriEncode(s string, keepSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], keepSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c, keepSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte, keepSlash bool) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')
}

// stringToSign is the string the signature is the HMAC of.
func (s *sigv4Request) stringToSign(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigv4Algorithm + "\n" + s.rawDate + "\n" + s.scope() + "\n" + hex.EncodeToString(sum[:])
}

func (s *sigv4Request) scope() string {
	return s.scopeDate + "/" + s.region + "/" + s.service + "/" + sigv4Terminator
}

// signingKey derives the key of the scope from the secret.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, sigv4Terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// matches reports whether the signature is the one secret gives r with the
// payload hash payloadHash.
func (s *sigv4Request) matches(r *http.Request, q url.Values, key []byte, payloadHash string) bool {
	want := hmacSHA256(key, s.stringToSign(s.canonicalRequest(r, q, payloadHash)))
	got, err := hex.DecodeString(s.signature)
	return err == nil && hmac.Equal(want, got)
}

// verify checks the signature of r, whose body hashed to bodyHash (hex
// SHA-256), with the signing key k of the secret. Header authentication must sign the payload (or
// send its hash in X-Amz-Content-Sha256, which must then match the body);
// a presigned URL may sign UNSIGNED-PAYLOAD instead.
func (s *sigv4Request) verify(r *http.Request, q url.Values, k *signingKeyEntry, bodyHash string) error {
	err := s.verifyKey(r, q, k.key, bodyHash)
	if err == nil && k.keep != nil {
		k.keep(k)
	}
	return err
}

func (s *sigv4Request) verifyKey(r *http.Request, q url.Values, key []byte, bodyHash string) error {
	switch {
	case s.payloadHash == unsignedPayload:
		if !s.presigned {
			return errMismatch("UNSIGNED-PAYLOAD is accepted only in presigned URLs; sign the request body.")
		}
		if s.matches(r, q, key, unsignedPayload) {
			return nil
		}
	case s.payloadHash != "":
		if !strings.EqualFold(s.payloadHash, bodyHash) {
			return errMismatch("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		if s.matches(r, q, key, s.payloadHash) {
			return nil
		}
	default:
		if s.matches(r, q, key, bodyHash) {
			return nil
		}
		if s.presigned && s.matches(r, q, key, unsignedPayload) {
			return nil
		}
	}
	return errMismatch("%s", msgSignatureMismatch)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
