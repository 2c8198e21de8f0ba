package server

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/internal/crosssite"
)

// CORS answers. The AWS SDK for JavaScript reads the request id and the
// query error code from headers, and the Date header to correct a skewed
// clock; none is visible to a page unless exposed.
const (
	corsAllowMethods  = "GET, POST"
	corsExposeHeaders = "x-amzn-RequestId, x-amzn-query-error, Date"
	corsMaxAge        = "7200" // seconds; browsers cap it (Chrome at 2 hours)
)

// corsFlag is the setting named in the refusal of a cross-site request:
// postbox serve's flag for Config.CORSAllowOrigins.
const corsFlag = "--cors-allow-origin"

// browserRequest deals with what browsers send: a request a browser makes
// for a page of another origin (crosssite.Foreign) is refused with
// AccessDenied (403) before it can change anything, unless
// Config.CORSAllowOrigins allows its origin; then the answer carries the
// CORS headers that let the page read it, and a CORS preflight (OPTIONS)
// is answered. It reports whether it answered r.
func (s *Server) browserRequest(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, isJSON bool, rid string) (answered bool, status int, code string) {
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
	if !preflight && !crosssite.Foreign(r) {
		return false, 0, ""
	}
	if !s.origins.Allows(origin) {
		status, code := writeError(w, buf, backend.NewError(backend.CodeAccessDenied, "%s", crosssite.Refused(r, corsFlag)), isJSON, rid)
		return true, status, code
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		return false, 0, "" // allowed by "*", and no CORS: not a page's fetch
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if !preflight {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false, 0, ""
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	if allowed := corsHeaders(r.Header.Get("Access-Control-Request-Headers")); allowed != "" {
		h.Set("Access-Control-Allow-Headers", allowed)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true, http.StatusNoContent, ""
}

// corsHeaders returns those of a preflight's requested headers that SQS
// clients send: content-type, authorization, x-amz-*, x-amzn-* and
// amz-sdk-* (what the AWS SDK for JavaScript sends). A page that asks for
// another sees its preflight fail in the browser.
func corsHeaders(requested string) string {
	var ok []string
	for h := range strings.SplitSeq(requested, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "content-type", h == "authorization",
			strings.HasPrefix(h, "x-amz-"), strings.HasPrefix(h, "x-amzn-"), strings.HasPrefix(h, "amz-sdk-"):
			ok = append(ok, h)
		}
	}
	return strings.Join(ok, ", ")
}
