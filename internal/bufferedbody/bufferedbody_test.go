package bufferedbody_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/internal/bufferedbody"
)

// TestBodyArrivesWholeAndCanBeReadAgain: the server gets the body with its
// length set, and the request can be replayed from GetBody.
func TestBodyArrivesWholeAndCanBeReadAgain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.ContentLength != int64(len(b)) {
			t.Errorf("Content-Length %d for %d bytes", r.ContentLength, len(b))
		}
		w.Write(b)
	}))
	defer srv.Close()
	client := &http.Client{Transport: bufferedbody.Transport{Next: http.DefaultTransport}}
	req, err := http.NewRequest("POST", srv.URL, io.NopCloser(strings.NewReader("Action=ListQueues")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "Action=ListQueues" {
		t.Errorf("echoed %q", b)
	}
	if resp.Request.GetBody == nil {
		t.Fatal("no GetBody")
	}
	again, _ := resp.Request.GetBody()
	if b, _ := io.ReadAll(again); string(b) != "Action=ListQueues" {
		t.Errorf("GetBody gave %q", b)
	}
}
