package awssqs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

func TestParseQueueURL(t *testing.T) {
	const acct = "123456789012"
	tests := []struct {
		in   string
		want awssqs.QueueURLInfo
	}{
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/orders", awssqs.QueueURLInfo{
			URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", Endpoint: "https://sqs.eu-west-1.amazonaws.com",
			AWS: true, Region: "eu-west-1", AccountID: acct, Name: "orders"}},
		{"https://SQS.US-EAST-2.amazonaws.com:443/123456789012/jobs.fifo", awssqs.QueueURLInfo{
			URL: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs.fifo", Endpoint: "https://sqs.us-east-2.amazonaws.com",
			AWS: true, Region: "us-east-2", AccountID: acct, Name: "jobs.fifo", FIFO: true}},
		{"https://queue.amazonaws.com/123456789012/legacy", awssqs.QueueURLInfo{
			URL: "https://queue.amazonaws.com/123456789012/legacy", Endpoint: "https://sqs.us-east-1.amazonaws.com",
			AWS: true, Region: "us-east-1", AccountID: acct, Name: "legacy"}},
		{"https://ap-southeast-2.queue.amazonaws.com/123456789012/legacy", awssqs.QueueURLInfo{
			URL: "https://ap-southeast-2.queue.amazonaws.com/123456789012/legacy", Endpoint: "https://sqs.ap-southeast-2.amazonaws.com",
			AWS: true, Region: "ap-southeast-2", AccountID: acct, Name: "legacy"}},
		{"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", awssqs.QueueURLInfo{
			URL: "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", Endpoint: "https://sqs.cn-north-1.amazonaws.com.cn",
			AWS: true, Region: "cn-north-1", AccountID: acct, Name: "q"}},
		{"https://cn-northwest-1.queue.amazonaws.com.cn/123456789012/q", awssqs.QueueURLInfo{
			URL: "https://cn-northwest-1.queue.amazonaws.com.cn/123456789012/q", Endpoint: "https://sqs.cn-northwest-1.amazonaws.com.cn",
			AWS: true, Region: "cn-northwest-1", AccountID: acct, Name: "q"}},
		{"https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", awssqs.QueueURLInfo{
			URL: "https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", Endpoint: "https://sqs-fips.us-gov-west-1.amazonaws.com",
			AWS: true, Region: "us-gov-west-1", AccountID: acct, Name: "q"}},
		{"https://sqs.eu-central-1.api.aws/123456789012/q", awssqs.QueueURLInfo{
			URL: "https://sqs.eu-central-1.api.aws/123456789012/q", Endpoint: "https://sqs.eu-central-1.api.aws",
			AWS: true, Region: "eu-central-1", AccountID: acct, Name: "q"}},
		{"https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.us-west-2.vpce.amazonaws.com/123456789012/q", awssqs.QueueURLInfo{
			URL:      "https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.us-west-2.vpce.amazonaws.com/123456789012/q",
			Endpoint: "https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.us-west-2.vpce.amazonaws.com",
			AWS:      true, Region: "us-west-2", AccountID: acct, Name: "q"}},
		{"https://vpce-0a1b2c3d4e5f67890-abcdefgh-us-west-2a.sqs.us-west-2.vpce.amazonaws.com/123456789012/q", awssqs.QueueURLInfo{
			URL:      "https://vpce-0a1b2c3d4e5f67890-abcdefgh-us-west-2a.sqs.us-west-2.vpce.amazonaws.com/123456789012/q",
			Endpoint: "https://vpce-0a1b2c3d4e5f67890-abcdefgh-us-west-2a.sqs.us-west-2.vpce.amazonaws.com",
			AWS:      true, Region: "us-west-2", AccountID: acct, Name: "q"}},
		// SQS-compatible endpoints.
		{"http://127.0.0.1:9324/000000000000/orders", awssqs.QueueURLInfo{
			URL: "http://127.0.0.1:9324/000000000000/orders", Endpoint: "http://127.0.0.1:9324",
			AccountID: "000000000000", Name: "orders"}},
		{"http://LocalHost:4566/queue/Mixed_Case-1.fifo", awssqs.QueueURLInfo{
			URL: "http://localhost:4566/queue/Mixed_Case-1.fifo", Endpoint: "http://localhost:4566",
			AccountID: "queue", Name: "Mixed_Case-1.fifo", FIFO: true}},
		{"https://sqs.internal.example.com/000000000000/q", awssqs.QueueURLInfo{
			URL: "https://sqs.internal.example.com/000000000000/q", Endpoint: "https://sqs.internal.example.com",
			AccountID: "000000000000", Name: "q"}},
		{"http://[::1]:9324/000000000000/q", awssqs.QueueURLInfo{
			URL: "http://[::1]:9324/000000000000/q", Endpoint: "http://[::1]:9324",
			AccountID: "000000000000", Name: "q"}},
		{"http://127.0.0.1:9324/000000000000/" + strings.Repeat("n", 75) + ".fifo", awssqs.QueueURLInfo{
			URL: "http://127.0.0.1:9324/000000000000/" + strings.Repeat("n", 75) + ".fifo", Endpoint: "http://127.0.0.1:9324",
			AccountID: "000000000000", Name: strings.Repeat("n", 75) + ".fifo", FIFO: true}},
	}
	for _, tt := range tests {
		got, err := awssqs.ParseQueueURL(tt.in)
		if err != nil {
			t.Errorf("ParseQueueURL(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseQueueURL(%q) =\n  %+v\nwant\n  %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseQueueURLErrorsSayWhatIsWrong(t *testing.T) {
	tests := []struct {
		in   string
		says string // a fragment of the error
	}{
		{"ftp://127.0.0.1/0/q", `scheme "ftp"`},
		{"http:///000000000000/q", "no host"},
		{"http://127.0.0.1:9324", "no account and queue name"},
		{"http://127.0.0.1:9324/", "no account and queue name"},
		{"http://127.0.0.1:9324/orders", "one path segment"},
		{"http://127.0.0.1:9324/000000000000/orders/", "ends in a slash"},
		{"http://127.0.0.1:9324/a/b/c", "3 path segments"},
		{"http://127.0.0.1:9324//orders", "empty account"},
		{"http://127.0.0.1:9324/000000000000/bad.name", `character '.'`},
		{"http://127.0.0.1:9324/000000000000/sp%20ace", `character '%'`},
		{"http://127.0.0.1:9324/000000000000/.fifo", `".fifo"`},
		{"http://127.0.0.1:9324/000000000000/" + strings.Repeat("n", 81), "81 characters"},
		{"http://127.0.0.1:9324/acc.ount/q", "account segment"},
		{"http://127.0.0.1:9324/000000000000/q?region=x", "has a query"},
		{"http://127.0.0.1:9324/000000000000/q#frag", "fragment"},
		{"http://user:pw@127.0.0.1:9324/000000000000/q", "user information"},
		{"http://sqs.us-east-1.amazonaws.com/123456789012/q", "use https"},
		{"https://sqs.us-east-1.amazonaws.com/000/q", "12 digits"},
		{"https://sqs.us-east-1.amazonaws.com/abcdefghijkl/q", "12 digits"},
		{"https://sqs.us-east-1.amazonaws.com:8443/123456789012/q", "port 8443"},
		{"https://s3.us-east-1.amazonaws.com/123456789012/q", "not an SQS host form"},
		{"https://sqs.amazonaws.com/123456789012/q", "not an SQS host form"},
		{"https://sqs.useast1.amazonaws.com/123456789012/q", "not a region name"},
		{"https://sqs.us-east-1.amazonaws.com.cn/123456789012/q", "non-China region"},
		{"https://vpce-.sqs.us-east-1.vpce.amazonaws.com/123456789012/q", "not an SQS host form"},
		{"https://%zz/1/q", "malformed"},
	}
	for _, tt := range tests {
		_, err := awssqs.ParseQueueURL(tt.in)
		if err == nil {
			t.Errorf("ParseQueueURL(%q) succeeded; want an error saying %q", tt.in, tt.says)
			continue
		}
		if !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseQueueURL(%q) = %q; want it to say %q", tt.in, err, tt.says)
		}
	}
}

func FuzzParseQueueURL(f *testing.F) {
	for _, s := range []string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
		"http://127.0.0.1:9324/000000000000/q.fifo",
		"https://vpce-1.sqs.us-east-1.vpce.amazonaws.com/123456789012/q",
		"https://queue.amazonaws.com/123456789012/q",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := awssqs.ParseQueueURL(s)
		if err != nil {
			return
		}
		// What parses, parses again to the same thing.
		again, err := awssqs.ParseQueueURL(info.URL)
		if err != nil || again != info {
			t.Fatalf("ParseQueueURL(%q) = %+v; reparsing its URL gives %+v, %v", s, info, again, err)
		}
		if info.Name == "" || info.AccountID == "" || info.Endpoint == "" {
			t.Fatalf("ParseQueueURL(%q) = %+v with an empty part", s, info)
		}
	})
}

func TestOpenRejectsMalformedURLs(t *testing.T) {
	for _, raw := range []string{"http://127.0.0.1:9324/orders", "https://sqs.nowhere.amazonaws.com/123456789012/q"} {
		q, svc, err := backend.Open(t.Context(), raw)
		if err == nil {
			svc.Close()
			t.Errorf("backend.Open(%q) = %v; want an error", raw, q)
		}
	}
}

// TestOpenAWSURL opens an AWS queue by URL alone: no request is made until
// the queue is used.
func TestOpenAWSURL(t *testing.T) {
	isolateAWSConfig(t)
	const raw = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"
	q, svc, err := backend.Open(t.Context(), raw)
	if err != nil {
		t.Fatalf("backend.Open(%q): %v", raw, err)
	}
	defer svc.Close()
	if q.URL() != raw {
		t.Errorf("URL() = %q; want %q", q.URL(), raw)
	}
	if _, ok := svc.(*awssqs.Service); !ok {
		t.Errorf("service is %T; want *awssqs.Service", svc)
	}
}

// TestCompatibleEndpointCredentialsAndRegion: against a non-AWS endpoint,
// a machine with no AWS setup signs with placeholder credentials in the
// default region; the environment's credentials and region win when set.
func TestCompatibleEndpointCredentialsAndRegion(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		credScope string // the Credential= part of the Authorization header
	}{
		{"fresh-machine", nil, "Credential=postbox/"},
		{"region-from-env", map[string]string{"AWS_REGION": "eu-west-2"}, "Credential=postbox/"},
		{"credentials-from-env", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}, "Credential=AKIDEXAMPLE/"},
	}
	f := cannedFixture(t, map[string]any{"ListQueues": map[string]any{}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWSConfig(t)
			region := awssqs.DefaultRegion
			for k, v := range tt.env {
				t.Setenv(k, v)
				if k == "AWS_REGION" {
					region = v
				}
			}
			_, svc, err := backend.Open(t.Context(), f.queueURL("q"))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			if _, err := svc.ListQueues(t.Context(), backend.ListQueuesRequest{}); err != nil {
				t.Fatalf("ListQueues: %v", err)
			}
			auth := f.last().Header.Get("Authorization")
			if !strings.Contains(auth, tt.credScope) || !strings.Contains(auth, "/"+region+"/sqs/aws4_request") {
				t.Errorf("Authorization = %q; want %s... and region %s", auth, tt.credScope, region)
			}
		})
	}
}

// TestOpenedClientSendsToTheURLsEndpoint: the request goes to the URL's
// host and port, as the JSON protocol does, with the queue named in the body.
func TestOpenedClientSendsToTheURLsEndpoint(t *testing.T) {
	f := newFixture(t, func(w http.ResponseWriter, req request) {
		writeJSON(w, 200, map[string]any{})
	})
	q, _ := f.open(t, "q")
	if _, err := q.Receive(context.Background(), backend.ReceiveRequest{WaitTimeSeconds: new(0)}); err != nil {
		t.Fatal(err)
	}
	req := f.last()
	if req.Action != "ReceiveMessage" || req.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Errorf("request: action %q content type %q; want ReceiveMessage over JSON 1.0", req.Action, req.Header.Get("Content-Type"))
	}
	if req.Body["QueueUrl"] != f.queueURL("q") {
		t.Errorf("QueueUrl = %v; want %s", req.Body["QueueUrl"], f.queueURL("q"))
	}
}

func TestOpenEndpoint(t *testing.T) {
	isolateAWSConfig(t)
	f := cannedFixture(t, map[string]any{"ListQueues": map[string]any{"QueueUrls": []string{"u"}}})
	for _, raw := range []string{f.base, f.base + "/", f.queueURL("q")} {
		svc, err := awssqs.OpenEndpoint(t.Context(), raw)
		if err != nil {
			t.Fatalf("OpenEndpoint(%q): %v", raw, err)
		}
		res, err := svc.ListQueues(t.Context(), backend.ListQueuesRequest{})
		if err != nil || len(res.QueueURLs) != 1 {
			t.Errorf("ListQueues through OpenEndpoint(%q) = %v, %v", raw, res, err)
		}
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	}
	svc, err := awssqs.OpenEndpoint(t.Context(), "https://sqs.eu-west-1.amazonaws.com")
	if err != nil {
		t.Fatalf("OpenEndpoint(AWS): %v", err)
	}
	svc.Close()
	for _, bad := range []string{"ftp://127.0.0.1", "http://127.0.0.1:9324/orders", "https://s3.amazonaws.com", "http://sqs.us-east-1.amazonaws.com", "::"} {
		if svc, err := awssqs.OpenEndpoint(t.Context(), bad); err == nil {
			svc.Close()
			t.Errorf("OpenEndpoint(%q) succeeded; want an error", bad)
		} else if !strings.Contains(err.Error(), "awssqs: ") {
			t.Errorf("OpenEndpoint(%q) = %v", bad, err)
		}
	}
}
