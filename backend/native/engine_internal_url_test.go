package native

import (
	"net/url"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

// slowQueueURL is what parseQueueURL does with net/url for http(s) URLs.
func slowQueueURL(raw string) (string, string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || !backend.IsAccountID(parts[0]) || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func checkPlainQueueURL(t *testing.T, raw string) {
	a, n, ok := plainQueueURL(raw)
	if !ok {
		return
	}
	sa, sn, sok := slowQueueURL(raw)
	if !sok || a != sa || n != sn {
		t.Fatalf("plainQueueURL(%q) = %q, %q; net/url: %q, %q, %v", raw, a, n, sa, sn, sok)
	}
}

func TestPlainQueueURL(t *testing.T) {
	for _, raw := range []string{
		"http://127.0.0.1:9324/000000000000/q", "https://h/000000000000/q.fifo/", "http://h:/000000000000/a-b_c",
		"http://h/000000000000/", "http://h//000000000000/q", "http://h/000000000000/q//", "http://h/00000000000/q",
		"http://h/000000000000/a/b", "http://h:x/000000000000/q", "http://[::1]:9324/000000000000/q", "http://h/000000000000/q%41",
		"HTTP://h/000000000000/q", "http://h/000000000000/q?x=1", "http://u@h/000000000000/q", "http://h:1:2/000000000000/q",
	} {
		checkPlainQueueURL(t, raw)
	}
	if _, _, ok := plainQueueURL("http://127.0.0.1:9324/000000000000/q"); !ok {
		t.Fatal("the usual form is not taken by the fast path")
	}
}

func FuzzPlainQueueURL(f *testing.F) {
	f.Add("http://127.0.0.1:9324/000000000000/q")
	f.Add("https://h:1/000000000000/q.fifo/")
	f.Fuzz(checkPlainQueueURL)
}
