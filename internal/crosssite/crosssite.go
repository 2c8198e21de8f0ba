// Package crosssite tells the requests a browser makes for a page of
// another origin from everything else, for postbox serve's SQS API and
// dashboard alike: one rule, in one place.
//
// A web page can make a browser send requests to any address, loopback
// included, and the browser sends them, even when it then hides the
// answer from the page. Without this check, any site a developer visited
// could delete the queues of their local postbox serve. SDKs, the AWS CLI
// and curl send neither Origin nor Sec-Fetch-Site and are never refused;
// browsers mark their requests with them (Fetch Metadata, CORS).
package crosssite

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Foreign reports whether a browser marks r as made for a page of another
// origin: a Sec-Fetch-Site header other than same-origin or none, or,
// without one, an Origin header whose host is not the host r was sent to.
// (Hosts are compared without their schemes, as net/http's
// CrossOriginProtection does, so that a server behind a TLS-terminating
// proxy still knows its own pages.)
func Foreign(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default: // same-site, cross-site, or anything else a browser may send
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

// Origins are the origins whose pages may use a server across sites (the
// CORS allow list). The zero value allows none.
type Origins struct {
	any  bool
	list map[string]bool // "scheme://host[:port]", lower case
}

// ParseOrigins checks an allow list: each entry is "*" (every origin) or
// an origin, scheme://host[:port] (no path); entries may also be
// comma-separated.
func ParseOrigins(entries []string) (Origins, error) {
	var o Origins
	for _, e := range entries {
		for _, s := range strings.Split(e, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "":
				continue
			case s == "*":
				o.any = true
				continue
			}
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				return Origins{}, fmt.Errorf("allowed origin %q: want * or scheme://host[:port], such as http://localhost:3000", s)
			}
			if o.list == nil {
				o.list = map[string]bool{}
			}
			o.list[strings.ToLower(u.Scheme+"://"+u.Host)] = true
		}
	}
	return o, nil
}

// Empty reports whether o allows no origin.
func (o Origins) Empty() bool { return !o.any && len(o.list) == 0 }

// Allows reports whether pages of origin (an Origin header's value) may
// use the server. With "*" every origin may, even "null" or none.
func (o Origins) Allows(origin string) bool {
	if o.any {
		return true
	}
	return origin != "" && o.list[strings.ToLower(strings.TrimSuffix(origin, "/"))]
}

// Refused returns the explanation for refusing a foreign request r, for
// an AccessDenied error; flag names the setting that would allow it.
func Refused(r *http.Request, flag string) string {
	origin, site := r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")
	var from string
	switch {
	case origin != "" && site != "":
		from = fmt.Sprintf("Origin %s, Sec-Fetch-Site %s", origin, site)
	case origin != "":
		from = "Origin " + origin
	default:
		from = "Sec-Fetch-Site " + site + ", no Origin"
	}
	msg := "Cross-site requests are refused: a browser sent this request for a web page of another origin (" + from + ")."
	if flag == "" {
		return msg
	}
	allow := "ORIGIN"
	if origin != "" && origin != "null" {
		allow = origin
	}
	return msg + " To let pages of an origin use this server, start it with " + flag + " " + allow + "."
}
