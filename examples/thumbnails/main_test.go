package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The shared in-process engine behind mem:// lives as long as the
	// process and parks no goroutine once the server is stopped.
	goleak.VerifyTestMain(m)
}

func TestRunMakesEveryThumbnail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		queue string
		fail  string
	}{
		{"all succeed", "mem://thumbs-test-ok", "0"},
		{"some retried", "mem://thumbs-test-retry", "0.25"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			err := run(context.Background(), []string{"-n", "24", "-workers", "4", "-size", "32", "-width", "96",
				"-height", "64", "-fail", tc.fail, "-dir", dir, "-queue", tc.queue, "-progress", "1h"}, &out)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "summary: 24/24 thumbnails") || !strings.Contains(out.String(), "; sources ") {
				t.Errorf("no summary:\n%s", out.String())
			}
			if want := "thumbnails: 24 thumbnails are in " + filepath.Join(dir, "thumbs"); !strings.Contains(out.String(), want) {
				t.Errorf("the output does not say where the thumbnails are (%q):\n%s", want, out.String())
			}
			thumbs, _ := filepath.Glob(filepath.Join(dir, "thumbs", "*.png"))
			if len(thumbs) != 24 {
				t.Fatalf("%d thumbnails", len(thumbs))
			}
			for _, p := range thumbs {
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(f)
				f.Close()
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 21 {
					t.Errorf("%s is %dx%d, want 32x21", p, b.Dx(), b.Dy())
				}
			}
		})
	}
}

// TestRunLeavesNoTemporaryFiles: without -dir, the sources and thumbnails
// go to a temporary folder that is removed at the end, and the output says
// so.
func TestRunLeavesNoTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-n", "6", "-workers", "2", "-size", "16", "-width", "48",
		"-height", "32", "-fail", "0", "-queue", "mem://thumbs-test-temp", "-progress", "1h"}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary folder: %s", e.Name())
	}
	if !strings.Contains(out.String(), "thumbnails: removed the temporary folder "+tmp) {
		t.Errorf("the output does not say the temporary folder was removed:\n%s", out.String())
	}
}

func TestScaleDown(t *testing.T) {
	src := generate(7, 300, 100)
	for _, tc := range []struct {
		img          image.Image
		size, wx, wy int
	}{
		{src, 30, 30, 10},
		{src, 1000, 300, 100}, // already fits
		{generate(1, 50, 200), 20, 5, 20},
		{image.NewNRGBA(image.Rect(0, 0, 40, 40)), 10, 10, 10}, // the generic path
	} {
		got := scaleDown(tc.img, tc.size).Bounds()
		if got.Dx() != tc.wx || got.Dy() != tc.wy {
			t.Errorf("scaled to %v, want %dx%d", got, tc.wx, tc.wy)
		}
	}
	// Averaging keeps a flat colour flat.
	flat := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range flat.Pix {
		flat.Pix[i] = 200
	}
	out := scaleDown(flat, 7)
	for _, v := range out.Pix {
		if v != 200 {
			t.Fatalf("flat image changed: %v", v)
		}
	}
}

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-workers", "0"}, &out); err == nil {
		t.Error("accepted -workers 0")
	}
}

// A stats job delivered twice counts once.
func TestTallyCountsEachThumbnailOnce(t *testing.T) {
	tl := &tally{seen: map[int]bool{}}
	for _, s := range []statsJob{{1, 100, 10}, {2, 200, 20}, {1, 100, 10}} {
		tl.add(s)
	}
	if n, src, thumb := tl.read(); n != 2 || src != 300 || thumb != 30 {
		t.Fatalf("tally %d, %d, %d", n, src, thumb)
	}
	if got := byteSize(3 << 20); got != "3.0 MiB" {
		t.Errorf("byteSize = %q", got)
	}
}
