package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// span is what the test reads of a span printed by the stdout exporter.
type span struct {
	Name        string
	SpanKind    int
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
}

// Span kinds as the stdout exporter prints them.
const (
	kindServer   = 2
	kindProducer = 4
	kindConsumer = 5
)

// TestOneTraceFromRequestToWorker runs the example in process and across
// postbox serve, and checks that its output shows one trace id across the
// request, the producer's create spans and the worker's process spans, with
// every process span the child of a create span.
func TestOneTraceFromRequestToWorker(t *testing.T) {
	for _, args := range [][]string{{"-n", "3"}, {"-n", "3", "-serve"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cfg, err := parseFlags(args)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := run(context.Background(), cfg, &out); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			spans := readSpans(t, &out)
			var request span
			creates := map[string]bool{}
			for _, s := range spans {
				switch {
				case s.Name == "POST /albums" && s.SpanKind == kindServer:
					request = s
				case s.Name == "create images" && s.SpanKind == kindProducer:
					creates[s.SpanContext.SpanID] = true
				}
			}
			if request.SpanContext.TraceID == "" || len(creates) != 3 {
				t.Fatalf("request %+v and %d create spans\n%s", request, len(creates), out.String())
			}
			processes := 0
			for _, s := range spans {
				if s.SpanKind != kindProducer && s.SpanKind != kindConsumer && s.SpanKind != kindServer {
					continue
				}
				if s.Name == "send images" {
					continue // the producer's batch call: a trace of its own, linked
				}
				if s.SpanContext.TraceID != request.SpanContext.TraceID {
					t.Errorf("%s is in trace %s, want %s", s.Name, s.SpanContext.TraceID, request.SpanContext.TraceID)
				}
				if s.SpanKind == kindConsumer {
					processes++
					if !creates[s.Parent.SpanID] {
						t.Errorf("process span %s has parent %s, not a create span", s.SpanContext.SpanID, s.Parent.SpanID)
					}
				}
			}
			if processes != 4 { // 3 jobs, one retried
				t.Errorf("%d process spans, want 4", processes)
			}
			text := out.String()
			if !strings.Contains(text, "trace "+request.SpanContext.TraceID) || !strings.Contains(text, `"Name":"postbox.consumer.retries"`) {
				t.Errorf("no trace tree or no metrics in the output:\n%s", text)
			}
		})
	}
}

// TestPrometheusMetrics scrapes the example's /metrics endpoint.
func TestPrometheusMetrics(t *testing.T) {
	cfg, err := parseFlags([]string{"-n", "2", "-metrics-addr", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	var scraped string
	cfg.metricsReady = func(url string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		scraped = string(b)
	}
	if err := run(context.Background(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"messaging_process_duration_seconds_count",
		"messaging_client_operation_duration_seconds_bucket",
		"messaging_client_sent_messages_total",
		"postbox_consumer_retries_total",
		"postbox_engine_dead_letter_moves_total",
		`messaging_destination_name="images"`,
	} {
		if !strings.Contains(scraped, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, scraped)
		}
	}
}

// readSpans decodes the spans the stdout exporter wrote, one a line.
func readSpans(t *testing.T, out *bytes.Buffer) []span {
	t.Helper()
	var spans []span
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"Name":`)) {
			continue // metrics, the tree
		}
		var s span
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		spans = append(spans, s)
	}
	return spans
}
