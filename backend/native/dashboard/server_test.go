package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend/native"
)

func TestServerJSON(t *testing.T) {
	counts := []ActionCount{{Action: "SendMessage", Requests: 10, Errors: map[string]int64{"InvalidParameterValue": 2}}}
	f := newFixture(t, Config{
		Server:   ServerInfo{Version: "v9.9.9", Auth: "sigv4", Credentials: 2},
		Requests: func() []ActionCount { return counts },
	})
	q := f.queue("a", nil)
	f.queue("b", nil)
	f.send(q, "x", "y")
	var s ServerJSON
	f.get("/_postbox/api/server", &s)
	if s.Version != "v9.9.9" || s.Auth != "sigv4" || s.Credentials != 2 || s.Queues != 2 || s.Messages.Visible != 2 ||
		s.Storage.Kind != "memory" || s.LongPollsWaiting != 0 || len(s.Actions) != 1 || s.Errors["InvalidParameterValue"] != 2 {
		t.Fatalf("server: %+v", s)
	}
	// Rates come from the counters' samples.
	f.clock.Advance(2 * time.Second)
	counts = []ActionCount{{Action: "SendMessage", Requests: 30, Errors: map[string]int64{"InvalidParameterValue": 2}}}
	f.get("/_postbox/api/server", &s)
	if s.Actions[0].PerSecond != 10 || s.RequestsPerSecond != 10 || s.UptimeSeconds != 2 {
		t.Fatalf("rates: %+v", s)
	}
}

func TestServerJSONDurable(t *testing.T) {
	eng, err := native.New(native.Config{DataDir: t.TempDir(), Sync: native.SyncInterval})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.CreateQueue(context.Background(), "q", nil, nil); err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := &fixture{t: t, eng: eng, dash: d}
	var s ServerJSON
	f.get("/_postbox/api/server", &s)
	if s.Storage.Kind != "disk" || s.Storage.DataDir == "" || s.Storage.Sync != "interval" || s.Actions != nil || s.Auth != "anonymous" {
		t.Fatalf("server: %+v", s)
	}
}
