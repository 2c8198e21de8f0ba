package native

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

// TestFairQueueQuietTenantsAreNotDelayed: with 100,000 messages of one
// noisy group queued ahead of them and 40 of that group in flight, the
// 500 messages of 50 quiet groups are delivered by the next 50 receives, as
// they would be on an otherwise idle queue.
func TestFairQueueQuietTenantsAreNotDelayed(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "tenants", nil)
	send := func(group string, n int) {
		for i := 0; i < n; i += 10 {
			var b []backend.SendEntry
			for j := i; j < i+10 && j < n; j++ {
				b = append(b, backend.SendEntry{ID: fmt.Sprint(j - i), Body: group, MessageGroupID: group})
			}
			res, err := q.Send(ctx, b)
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
		}
	}
	recv := func() []*backend.Message {
		got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	send("noisy", 100_000)
	for i := 0; i < 4; i++ {
		for _, m := range recv() {
			if m.Body != "noisy" {
				t.Fatal("only noisy messages are queued yet")
			}
		}
	}
	for g := 0; g < 50; g++ {
		send(fmt.Sprintf("quiet-%02d", g), 10)
	}
	quiet := 0
	for i := 0; i < 50; i++ {
		for _, m := range recv() {
			if strings.HasPrefix(m.Body, "quiet-") {
				quiet++
			}
		}
	}
	if quiet != 500 {
		t.Fatalf("the 50 receives after the quiet sends delivered %d of 500 quiet messages", quiet)
	}
	// With only noisy work left, it is delivered at once.
	if got := recv(); len(got) != 10 || got[0].Body != "noisy" {
		t.Fatalf("noisy backlog not served when alone: %d", len(got))
	}
	attrs, _ := e.GetAttributes(ctx, q.URL(), []string{"ApproximateNumberOfMessages"})
	if attrs["ApproximateNumberOfMessages"] != fmt.Sprint(100_000-50) {
		t.Fatalf("ApproximateNumberOfMessages = %s", attrs["ApproximateNumberOfMessages"])
	}
}

// TestFairQueueBelowThresholdKeepsOrder: a group with fewer than 30 in
// flight is not noisy, so messages come in send order.
func TestFairQueueBelowThresholdKeepsOrder(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "tenants", nil)
	var b []backend.SendEntry
	for j := 0; j < 10; j++ {
		g := "a"
		if j >= 5 {
			g = "b"
		}
		b = append(b, backend.SendEntry{ID: fmt.Sprint(j), Body: fmt.Sprint(j), MessageGroupID: g})
	}
	if _, err := q.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"MessageGroupId"}})
	for i, m := range got {
		if m.Body != fmt.Sprint(i) {
			t.Fatalf("position %d got %s", i, m.Body)
		}
	}
	if got[0].Attributes["MessageGroupId"] != "a" {
		t.Fatalf("MessageGroupId attribute: %v", got[0].Attributes)
	}
}
