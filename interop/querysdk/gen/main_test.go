package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCopyIsCurrent regenerates the adapter copy into a temporary folder
// and compares it with the committed ../awssqs24, so that the query-protocol
// suite always runs the adapter as it is in backend/awssqs.
func TestCopyIsCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := run("../../../backend/awssqs", dir); err != nil {
		t.Fatalf("gen: %v (the adapter changed under a patch: update gen/main.go)", err)
	}
	want, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("gen wrote no files")
	}
	for _, f := range want {
		base := filepath.Base(f)
		w, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "awssqs24", base))
		if err != nil || !bytes.Equal(got, w) {
			t.Errorf("awssqs24/%s is not what gen makes of backend/awssqs/%s now: run go generate in interop/querysdk", base, base)
		}
	}
	committed, err := filepath.Glob(filepath.Join("..", "awssqs24", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range committed {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.Base(f))); os.IsNotExist(err) && bytes.HasPrefix(b, []byte(generatedPrefix)) {
			t.Errorf("awssqs24/%s is generated but backend/awssqs has no such file: run go generate in interop/querysdk", filepath.Base(f))
		}
	}
}

// TestPatchesMatchOnce checks gen's own guard: a patch whose text is not in
// the adapter fails the generation instead of being skipped.
func TestPatchesMatchOnce(t *testing.T) {
	saved := patches
	t.Cleanup(func() { patches = saved })
	patches = append(append([]patch(nil), saved...), patch{file: "queue.go", why: "test", old: "no such text in the adapter", new: "x"})
	if err := run("../../../backend/awssqs", t.TempDir()); err == nil {
		t.Fatal("gen with a patch that matches nothing succeeded, want an error")
	}
}
