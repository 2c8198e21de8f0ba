package native

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

func openDurable(t *testing.T, dir string, clk clockwork.Clock) *Engine {
	t.Helper()
	e, err := New(Config{Clock: clk, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func qOf(t *testing.T, e *Engine, name string) backend.Queue {
	t.Helper()
	u, err := e.QueueURL(context.Background(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := e.Queue(u)
	return q
}

func recvN(t *testing.T, q backend.Queue, n int) []*backend.Message {
	t.Helper()
	got, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: n, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func counts(t *testing.T, e *Engine, name string) string {
	t.Helper()
	u, _ := e.QueueURL(context.Background(), name, "")
	a, err := e.GetAttributes(context.Background(), u, []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"})
	if err != nil {
		t.Fatal(err)
	}
	return a["ApproximateNumberOfMessages"] + "/" + a["ApproximateNumberOfMessagesNotVisible"] + "/" + a["ApproximateNumberOfMessagesDelayed"]
}

// TestDurableReopenKeepsEverything: queues with their settings, tags and
// dead-letter wiring, and messages in every state survive a close and
// reopen; in-flight messages come back when their timeout would have ended,
// receipt handles stay valid, receive counts and FIFO deduplication hold.
func TestDurableReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	e := openDurable(t, dir, clk)
	if _, err := e.CreateQueue(ctx, "dlq", nil, map[string]string{"team": "imaging"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateQueue(ctx, "jobs", backend.Attributes{
		"VisibilityTimeout": "60",
		"RedrivePolicy":     `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}`,
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateQueue(ctx, "orders.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil); err != nil {
		t.Fatal(err)
	}
	jobs := qOf(t, e, "jobs")
	var batch []backend.SendEntry
	for i := 0; i < 6; i++ {
		batch = append(batch, backend.SendEntry{ID: fmt.Sprint(i), Body: fmt.Sprint("job ", i),
			MessageAttributes: map[string]backend.MessageAttributeValue{"n": {DataType: "Number", StringValue: fmt.Sprint(i)}}})
	}
	batch = append(batch, backend.SendEntry{ID: "late", Body: "delayed", DelaySeconds: new(120)})
	if res, err := jobs.Send(ctx, batch); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	got := recvN(t, jobs, 3) // job 0..2 in flight for 60 s
	if len(got) != 3 {
		t.Fatalf("received %d", len(got))
	}
	if res, _ := jobs.Delete(ctx, []backend.DeleteEntry{{ID: "a", ReceiptHandle: got[0].ReceiptHandle}}); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if res, _ := jobs.ChangeVisibility(ctx, []backend.VisibilityEntry{{ID: "a", ReceiptHandle: got[1].ReceiptHandle, VisibilityTimeout: 600}}); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	orders := qOf(t, e, "orders.fifo")
	sent, err := orders.Send(ctx, []backend.SendEntry{
		{ID: "1", Body: "created", MessageGroupID: "o1"},
		{ID: "2", Body: "paid", MessageGroupID: "o1"},
	})
	if err != nil || sent[0].Err != nil {
		t.Fatal(err, sent)
	}
	before := counts(t, e, "jobs")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = openDurable(t, dir, clk)
	defer e.Close()
	if c := counts(t, e, "jobs"); c != before || c != "3/2/1" {
		t.Fatalf("counts after reopen %s, before %s", c, before)
	}
	tags, _ := e.ListTags(ctx, "dlq")
	if tags["team"] != "imaging" {
		t.Fatalf("tags: %v", tags)
	}
	attrs, _ := e.GetAttributes(ctx, "jobs", []string{"All"})
	if attrs["VisibilityTimeout"] != "60" || !strings.Contains(attrs["RedrivePolicy"], "dlq") {
		t.Fatalf("attributes: %v", attrs)
	}
	jobs = qOf(t, e, "jobs")
	// The in-flight message's handle is still good.
	if res, _ := jobs.ChangeVisibility(ctx, []backend.VisibilityEntry{{ID: "a", ReceiptHandle: got[2].ReceiptHandle, VisibilityTimeout: 60}}); res[0].Err != nil {
		t.Fatalf("handle after reopen: %v", res[0].Err)
	}
	clk.Advance(61 * time.Second) // got[2]'s renewed timeout ends; got[1] holds for 600 s
	again := recvN(t, jobs, 10)
	bodies := map[string]string{}
	for _, m := range again {
		bodies[m.Body] = m.Attributes["ApproximateReceiveCount"]
	}
	if len(again) != 4 || bodies["job 2"] != "2" || bodies["job 3"] != "1" || bodies["job 5"] != "1" {
		t.Fatalf("after the timeout: %v", bodies)
	}
	// FIFO: a duplicate of a message sent before the restart is dropped,
	// and the group's order holds.
	orders = qOf(t, e, "orders.fifo")
	dup, err := orders.Send(ctx, []backend.SendEntry{{ID: "d", Body: "created", MessageGroupID: "o1"}})
	if err != nil || dup[0].MessageID != sent[0].MessageID || dup[0].SequenceNumber != sent[0].SequenceNumber {
		t.Fatalf("dedup after reopen: %+v %v", dup, err)
	}
	fo := recvN(t, orders, 10)
	if len(fo) != 2 || fo[0].Body != "created" || fo[1].Body != "paid" {
		t.Fatalf("fifo after reopen: %v", bodiesOf(fo))
	}
	next, _ := orders.Send(ctx, []backend.SendEntry{{ID: "3", Body: "shipped", MessageGroupID: "o1"}})
	if next[0].SequenceNumber <= sent[1].SequenceNumber {
		t.Fatalf("sequence number went back: %s after %s", next[0].SequenceNumber, sent[1].SequenceNumber)
	}
	// A deleted name stays reserved across a restart.
	if err := e.DeleteQueue(ctx, "dlq"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = openDurable(t, dir, clk)
	defer e.Close()
	if _, err := e.CreateQueue(ctx, "dlq", nil, nil); !errorsIs(err, backend.ErrQueueDeletedRecently) {
		t.Fatalf("recreate after restart: %v", err)
	}
}

func errorsIs(err error, target *backend.Error) bool {
	return err != nil && backend.Code(err) == target.Code
}

func bodiesOf(ms []*backend.Message) []string { return bodies(ms) }

// TestDurableDirectoryLock: a second engine on the same directory fails
// clearly.
func TestDurableDirectoryLock(t *testing.T) {
	dir := t.TempDir()
	e := openDurable(t, dir, nil)
	defer e.Close()
	_, err := New(Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second open: %v", err)
	}
}

// TestDurableCompactionBoundsTheStore sends and deletes far more than the
// bound, compacting as it goes, and checks that the directory stays small
// and reopens with exactly what is left.
func TestDurableCompactionBoundsTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := New(Config{DataDir: dir, SegmentBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateQueue(ctx, "churn", nil, nil); err != nil {
		t.Fatal(err)
	}
	q := qOf(t, e, "churn")
	body := strings.Repeat("z", 1000)
	const rounds = 400 // 4,000 messages of 1 KB: about 8 MB of log before compaction
	for r := 0; r < rounds; r++ {
		var b []backend.SendEntry
		for i := 0; i < 10; i++ {
			b = append(b, backend.SendEntry{ID: fmt.Sprint(i), Body: body})
		}
		if _, err := q.Send(ctx, b); err != nil {
			t.Fatal(err)
		}
		got := recvN(t, q, 10)
		var del []backend.DeleteEntry
		for i, m := range got {
			del = append(del, backend.DeleteEntry{ID: fmt.Sprint(i), ReceiptHandle: m.ReceiptHandle})
		}
		if r != rounds-1 { // keep the last batch in flight
			if _, err := q.Delete(ctx, del); err != nil {
				t.Fatal(err)
			}
		}
		if r%50 == 49 {
			if err := e.Compact(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.Compact(); err != nil {
		t.Fatal(err)
	}
	if size := dirSize(t, dir); size > 1<<20 {
		t.Fatalf("store is %d bytes after compaction, want under 1 MiB", size)
	}
	e.Close()
	e = openDurable(t, dir, nil)
	defer e.Close()
	if c := counts(t, e, "churn"); c != "0/10/0" {
		t.Fatalf("after reopen: %s", c)
	}
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		info, err := e.Info()
		if err == nil {
			n += info.Size()
		}
	}
	return n
}

// TestDurableCorruption truncates and flips bits in the log at random
// offsets: the store opens every time, and every message whose record is
// intact is still there.
func TestDurableCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := openDurable(t, dir, nil)
	if _, err := e.CreateQueue(ctx, "q", nil, nil); err != nil {
		t.Fatal(err)
	}
	q := qOf(t, e, "q")
	const n = 200
	for i := 0; i < n; i++ {
		if _, err := q.Send(ctx, []backend.SendEntry{{ID: "x", Body: fmt.Sprintf("message %03d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	e.Close()
	segs, _ := listFiles(dir, "wal", ".log")
	path := filepath.Join(dir, segName(segs[0]))
	pristine, _ := os.ReadFile(path)
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 20; trial++ {
		buf := append([]byte(nil), pristine...)
		damaged := map[int]bool{} // frame index whose bytes changed
		if trial%2 == 0 {
			cut := rng.IntN(len(buf))
			buf = buf[:cut]
		} else {
			for k := 0; k < 3; k++ {
				off := rng.IntN(len(buf))
				buf[off] ^= byte(1 << rng.IntN(8))
				_ = damaged
			}
		}
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		// Count the intact send frames as the reader sees them.
		want := map[string]bool{}
		scanFrames(buf, func(f frame) error {
			if f.typ == recSend {
				d := &dec{b: f.payload}
				d.u()
				d.u()
				for c := d.n(); c > 0 && d.err == nil; c-- {
					want[decMsg(d).body] = true
				}
			}
			return nil
		})
		e, err := New(Config{DataDir: dir})
		if err != nil {
			t.Fatalf("trial %d: open: %v", trial, err)
		}
		got := map[string]bool{}
		if u, err := e.QueueURL(ctx, "q", ""); err == nil {
			qq, _ := e.Queue(u)
			for {
				ms := recvN(t, qq, 10)
				if len(ms) == 0 {
					break
				}
				for _, m := range ms {
					got[m.Body] = true
				}
			}
		}
		e.Close()
		if _, err := os.Stat(filepath.Join(dir, segName(segs[0]))); err == nil {
			// the reopened engines wrote new segments after it; clean them
		}
		cleanExcept(t, dir, segName(segs[0]))
		// A queue whose create record was damaged has no messages to show;
		// otherwise every intact message is there.
		if len(got) > 0 || intactCreate(buf) {
			for b := range want {
				if !got[b] {
					t.Fatalf("trial %d: intact message %q lost (kept %d of %d)", trial, b, len(got), len(want))
				}
			}
		}
	}
}

func intactCreate(buf []byte) bool {
	found := false
	scanFrames(buf, func(f frame) error {
		if f.typ == recCreateQueue {
			found = true
		}
		return nil
	})
	return found
}

func cleanExcept(t *testing.T, dir, keep string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != keep && e.Name() != "LOCK" {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
