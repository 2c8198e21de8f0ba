package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postbox-go/postbox/backend/native/server"
)

// browserCall sends one request as a browser would for a page, with the
// headers given, and returns the answer and its body.
func browserCall(t *testing.T, method, rawURL, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// depth returns the messages of a queue, through the SDK (no Origin).
func (e *env) depth(t *testing.T, queueURL string) string {
	t.Helper()
	out, err := e.client.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if err != nil {
		t.Fatalf("the queue is gone or unreadable: %v", err)
	}
	return out.Attributes["ApproximateNumberOfMessages"]
}

// TestCrossSiteRequestsRefused sends what a web page can make a browser
// send to a local server (forms, image loads, fetches) and checks that
// each is refused with AccessDenied and changes nothing, while the same
// requests without browser headers, or from the server's own origin, are
// served.
func TestCrossSiteRequestsRefused(t *testing.T) {
	e := newEnv(t)
	victim := e.createQueue(t, "victim", nil) // the SDK sends no Origin: served
	if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(victim), MessageBody: aws.String("keep me")}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"Action": {"DeleteQueue"}, "QueueUrl": {victim}}.Encode()
	purgeJSON := `{"QueueUrl":"` + victim + `"}`
	jsonHdr := func(extra map[string]string) map[string]string {
		h := map[string]string{"X-Amz-Target": "AmazonSQS.PurgeQueue", "Content-Type": "application/x-amz-json-1.0"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	formHdr := func(extra map[string]string) map[string]string {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	cases := []struct {
		name, method, url, body string
		hdr                     map[string]string
		json                    bool
	}{
		{"form post from another site", "POST", e.hs.URL + "/", form, formHdr(map[string]string{"Origin": "http://evil.example"}), false},
		{"form post, fetch metadata", "POST", e.hs.URL + "/", form, formHdr(map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}), false},
		{"image load (GET, no Origin)", "GET", e.hs.URL + "/?" + form, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"another port of the same site", "POST", e.hs.URL + "/", form, formHdr(map[string]string{"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"}), false},
		{"opaque origin", "POST", e.hs.URL + "/", form, formHdr(map[string]string{"Origin": "null"}), false},
		{"fetch of the JSON protocol", "POST", e.hs.URL + "/", purgeJSON, jsonHdr(map[string]string{"Origin": "http://evil.example"}), true},
		{"preflight", "OPTIONS", e.hs.URL + "/", "", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type,x-amz-target"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := browserCall(t, c.method, c.url, c.body, c.hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403; body %s", resp.StatusCode, body)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("a refused request got Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
			}
			var code, msg string
			if c.json {
				var m map[string]string
				json.Unmarshal([]byte(body), &m)
				code, msg = m["__type"], m["message"]
				if q := resp.Header.Get("x-amzn-query-error"); !strings.HasPrefix(q, "AccessDenied;") {
					t.Errorf("x-amzn-query-error = %q", q)
				}
			} else {
				code, msg = body, body
			}
			if !strings.Contains(code, "AccessDenied") || !strings.Contains(msg, "Cross-site requests are refused") || !strings.Contains(msg, "--cors-allow-origin") {
				t.Errorf("answer %s", body)
			}
			if d := e.depth(t, victim); d != "1" {
				t.Errorf("the queue holds %s messages after a refused request, want 1", d)
			}
		})
	}

	// The server's own pages, an address typed into the browser, and
	// programs without browser headers are served.
	for _, hdr := range []map[string]string{
		{"Origin": e.hs.URL},
		{"Origin": e.hs.URL, "Sec-Fetch-Site": "same-origin"},
		{"Sec-Fetch-Site": "none"},
		{},
	} {
		resp, body := browserCall(t, "GET", e.hs.URL+"/?Action=ListQueues", "", hdr)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "victim") {
			t.Errorf("ListQueues with %v: %d %s", hdr, resp.StatusCode, body)
		}
	}
	resp, body := browserCall(t, "POST", e.hs.URL+"/", purgeJSON, jsonHdr(map[string]string{"Origin": e.hs.URL}))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("PurgeQueue from the server's own origin: %d %s", resp.StatusCode, body)
	}
}

// TestCORSAllowedOrigins checks the answers to pages of allowed origins:
// preflights, and CORS headers on answers.
func TestCORSAllowedOrigins(t *testing.T) {
	e := newEnv(t, server.Config{CORSAllowOrigins: []string{"http://localhost:3000", "https://app.example, https://b.example"}})
	q := e.createQueue(t, "jobs", nil)
	sdkHeaders := "content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id,amz-sdk-request,authorization,x-amz-date,x-amz-content-sha256,x-amzn-query-mode,x-evil"
	for _, origin := range []string{"http://localhost:3000", "https://app.example", "https://b.example"} {
		resp, body := browserCall(t, "OPTIONS", e.hs.URL+"/", "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": sdkHeaders,
			"Sec-Fetch-Site": "cross-site",
		})
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Max-Age") == "" ||
			!strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("preflight from %s: %d %v %s", origin, resp.StatusCode, h, body)
		}
		allowed := h.Get("Access-Control-Allow-Headers")
		for _, want := range strings.Split(strings.TrimSuffix(sdkHeaders, ",x-evil"), ",") {
			if !strings.Contains(allowed, want) {
				t.Errorf("preflight from %s allows headers %q, not %s", origin, allowed, want)
			}
		}
		if strings.Contains(allowed, "x-evil") {
			t.Errorf("preflight allows headers %q", allowed)
		}

		resp, body = browserCall(t, "POST", e.hs.URL+"/", `{"QueueUrl":"`+q+`","MessageBody":"from a page"}`, map[string]string{
			"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0",
			"Origin": origin, "Sec-Fetch-Site": "cross-site",
		})
		h = resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Expose-Headers")), "x-amzn-requestid") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Expose-Headers")), "x-amzn-query-error") {
			t.Errorf("SendMessage from %s: %d %v %s", origin, resp.StatusCode, h, body)
		}
	}
	if d := e.depth(t, q); d != "3" {
		t.Errorf("the queue holds %s messages, want the 3 the pages sent", d)
	}
	// Other origins are still refused.
	resp, _ := browserCall(t, "POST", e.hs.URL+"/", url.Values{"Action": {"PurgeQueue"}, "QueueUrl": {q}}.Encode(), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example",
	})
	if resp.StatusCode != http.StatusForbidden || e.depth(t, q) != "3" {
		t.Errorf("a page of another origin: %d", resp.StatusCode)
	}

	// "*" allows every origin.
	any := newEnv(t, server.Config{CORSAllowOrigins: []string{"*"}})
	any.createQueue(t, "open", nil)
	for _, hdr := range []map[string]string{{"Origin": "http://whoever.example"}, {"Sec-Fetch-Site": "cross-site"}} {
		resp, body := browserCall(t, "GET", any.hs.URL+"/?Action=ListQueues", "", hdr)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "open") {
			t.Errorf("with *, ListQueues with %v: %d %s", hdr, resp.StatusCode, body)
		}
	}

	for _, bad := range []string{"ftp://x", "http://a.example/path", "localhost:3000", "null"} {
		if _, err := server.New(server.Config{Service: e.eng, CORSAllowOrigins: []string{bad}}); err == nil {
			t.Errorf("CORSAllowOrigins %q was accepted", bad)
		}
	}
}
