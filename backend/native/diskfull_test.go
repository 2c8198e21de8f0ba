package native

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

// TestDurableDiskFull runs the durable engine on a small tmpfs that fills
// up. Requests then fail with ServiceUnavailable and acknowledge nothing
// that is not stored; once space returns the engine writes again, and
// after a reopen every acknowledged message is there. It needs root (to
// mount the tmpfs) and skips without it.
func TestDurableDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	ctx := context.Background()
	dir := filepath.Join(mnt, "data")
	e, err := New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close() }()
	if _, err := e.CreateQueue(ctx, "q", nil, nil); err != nil {
		t.Fatal(err)
	}
	q := qOf(t, e, "q")
	// A filler file takes what the log does not, so that freeing it later
	// gives space back.
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 600<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("d", 1000)
	acked := map[string]bool{}
	var failure error
	for i := 0; i < 2000 && failure == nil; i++ {
		res, err := q.Send(ctx, []backend.SendEntry{{ID: "x", Body: fmt.Sprintf("%04d %s", i, body)}})
		if err != nil {
			failure = err
			break
		}
		acked[res[0].MessageID] = true
	}
	if failure == nil {
		t.Fatal("the disk never filled")
	}
	var be *backend.Error
	if !errors.As(failure, &be) || be.Code != backend.CodeServiceUnavailable {
		t.Fatalf("a full disk gave %v, want ServiceUnavailable", failure)
	}
	// While full, changes are refused up front.
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "x", Body: "refused"}}); backend.Code(err) != backend.CodeServiceUnavailable {
		t.Fatalf("send on a full disk: %v", err)
	}
	// Space returns: the engine writes again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for tries := 0; ; tries++ {
		res, err := q.Send(ctx, []backend.SendEntry{{ID: "x", Body: "after"}})
		if err == nil {
			acked[res[0].MessageID] = true
			break
		}
		if tries > 1_000_000 {
			t.Fatalf("the engine did not recover: %v", err)
		}
		runtime.Gosched()
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	q = qOf(t, e, "q")
	found := map[string]bool{}
	for {
		got := recvN(t, q, 10)
		if len(got) == 0 {
			break
		}
		for _, m := range got {
			found[m.MessageID] = true
		}
	}
	for id := range acked {
		if !found[id] {
			t.Fatalf("acknowledged message %s lost (found %d of %d)", id, len(found), len(acked))
		}
	}
}
