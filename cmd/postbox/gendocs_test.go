package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCLIReferenceUpToDate fails when docs/cli/ is not what the commands
// generate: run "go generate ./cmd/postbox" and commit the result.
func TestCLIReferenceUpToDate(t *testing.T) {
	fresh := t.TempDir()
	if err := genDocs(fresh); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "docs", "cli")
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	want, got := names(fresh), names(committed)
	if !slices.Equal(want, got) {
		t.Fatalf("docs/cli has %v, the commands generate %v: run go generate ./cmd/postbox", got, want)
	}
	for _, name := range want {
		w, _ := os.ReadFile(filepath.Join(fresh, name))
		g, _ := os.ReadFile(filepath.Join(committed, name))
		if string(w) != string(g) {
			t.Errorf("docs/cli/%s is stale: run go generate ./cmd/postbox", name)
		}
	}
	if !slices.Contains(want, "postbox_bench.md") || slices.Contains(want, "postbox_gen-docs.md") {
		t.Errorf("generated pages: %v", want)
	}
}
