package crosssite

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestForeign(t *testing.T) {
	for _, c := range []struct {
		origin, site string
		foreign      bool
	}{
		{"", "", false}, // an SDK, the AWS CLI, curl
		{"http://127.0.0.1:9324", "", false},
		{"https://127.0.0.1:9324", "", false}, // behind a TLS-terminating proxy
		{"http://127.0.0.1:9324", "same-origin", false},
		{"", "none", false}, // typed into the address bar
		{"http://evil.example", "", true},
		{"http://127.0.0.1:3000", "", true},
		{"http://127.0.0.1:9324", "same-site", true},
		{"", "cross-site", true},
		{"", "same-site", true},
		{"null", "", true},
		{"::bad", "", true},
		{"http://evil.example", "same-origin", false}, // Sec-Fetch-Site wins, as in net/http
	} {
		r := httptest.NewRequest("POST", "http://127.0.0.1:9324/", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if got := Foreign(r); got != c.foreign {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: Foreign = %v, want %v", c.origin, c.site, got, c.foreign)
		}
	}
}

func TestOrigins(t *testing.T) {
	o, err := ParseOrigins([]string{"http://localhost:3000", " https://App.example/ , https://b.example:8443"})
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"http://localhost:3000": true, "https://app.example": true, "https://b.example:8443": true,
		"http://localhost:3001": false, "https://b.example": false, "null": false, "": false,
	} {
		if o.Allows(origin) != want {
			t.Errorf("Allows(%q) = %v", origin, !want)
		}
	}
	all, _ := ParseOrigins([]string{"*"})
	if !all.Allows("null") || !all.Allows("") || all.Empty() {
		t.Error("* does not allow every origin")
	}
	if none, _ := ParseOrigins(nil); !none.Empty() || none.Allows("http://localhost:3000") {
		t.Error("no origins allow some")
	}
	for _, bad := range []string{"localhost:3000", "ftp://x", "http://x/path", "http://x?q", "null", "http://u@x"} {
		if _, err := ParseOrigins([]string{bad}); err == nil {
			t.Errorf("ParseOrigins(%q) succeeded", bad)
		}
	}
}

func TestRefused(t *testing.T) {
	r := httptest.NewRequest("POST", "http://127.0.0.1:9324/", nil)
	r.Header.Set("Origin", "http://evil.example")
	if m := Refused(r, "--cors-allow-origin"); !strings.Contains(m, "Cross-site requests are refused") ||
		!strings.Contains(m, "--cors-allow-origin http://evil.example") {
		t.Errorf("Refused = %q", m)
	}
	r.Header.Del("Origin")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if m := Refused(r, "--cors-allow-origin"); !strings.Contains(m, "Sec-Fetch-Site cross-site, no Origin") || !strings.Contains(m, "ORIGIN") {
		t.Errorf("Refused = %q", m)
	}
}
