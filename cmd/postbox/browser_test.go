package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// browser is an HTTP client that shows redirects instead of following them.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func browserDo(t *testing.T, method, rawURL, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeRefusesWebPages runs postbox serve as a developer does and
// plays a web page of another site that makes the browser delete a queue
// (the curl of the report), then the same with --cors-allow-origin for
// that site.
func TestServeRefusesWebPages(t *testing.T) {
	defer browser.CloseIdleConnections()
	o := defaultOptions()
	o.ui = true
	o.logLevel = "warn"
	client, s, _, _ := startServe(t, o)
	endpoint := "http://" + s.addr.String()
	victim, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("victim")})
	if err != nil {
		t.Fatal(err)
	}
	del := url.Values{"Action": {"DeleteQueue"}, "QueueUrl": {aws.ToString(victim.QueueUrl)}}.Encode()
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}
	resp, body := browserDo(t, "POST", endpoint+"/", del, form)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "--cors-allow-origin") {
		t.Errorf("DeleteQueue from http://evil.example: %d %s", resp.StatusCode, body)
	}
	if _, err := client.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("victim")}); err != nil {
		t.Fatalf("the queue is gone: %v", err)
	}

	// A browser opening the server's address is sent to the dashboard; an
	// SQS client asking the same gets SQS's answer.
	page := map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Sec-Fetch-Site": "none"}
	resp, _ = browserDo(t, "GET", endpoint+"/", "", page)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/_postbox/" {
		t.Errorf("a browser opening %s/: %d, Location %q", endpoint, resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := browserDo(t, "GET", endpoint+"/_postbox/", "", page); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<title>postbox dashboard</title>") {
		t.Errorf("the dashboard: %d %.100s", resp.StatusCode, body)
	}
	for _, hdr := range []map[string]string{{}, {"Accept": "*/*"}, {"Accept": "text/xml"}} {
		if resp, body := browserDo(t, "GET", endpoint+"/", "", hdr); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "UnknownOperationException") {
			t.Errorf("GET / with %v: %d %s", hdr, resp.StatusCode, body)
		}
	}
	if resp, body := browserDo(t, "GET", endpoint+"/?Action=ListQueues", "", page); resp.StatusCode != http.StatusOK || !strings.Contains(body, "victim") {
		t.Errorf("GET /?Action=ListQueues from the address bar: %d %s", resp.StatusCode, body)
	}

	// With --cors-allow-origin, that origin's pages may use the server.
	o.corsOrigins = []string{"http://localhost:3000,http://evil.example"}
	client2, s2, _, _ := startServe(t, o)
	endpoint2 := "http://" + s2.addr.String()
	if _, err := client2.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	resp, _ = browserDo(t, "OPTIONS", endpoint2+"/", "", map[string]string{
		"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-amz-target,amz-sdk-request",
	})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-amz-target") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = browserDo(t, "POST", endpoint2+"/", url.Values{"Action": {"ListQueues"}}.Encode(), form)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "http://evil.example" || !strings.Contains(body, "shared") {
		t.Errorf("ListQueues from an allowed origin: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	o.corsOrigins = []string{"localhost:3000"}
	if err := runServe(t.Context(), o, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "localhost:3000") {
		t.Errorf("a bad --cors-allow-origin: %v", err)
	}
}
