package largepayload_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/largepayload"
)

// Every Store behaves the same.
func TestStores(t *testing.T) {
	for name, mk := range map[string]func(t *testing.T) largepayload.Store{
		"S3 (gofakes3)": func(t *testing.T) largepayload.Store { return largepayload.S3Store{Client: fakeS3(t)} },
		"memory":        func(t *testing.T) largepayload.Store { return &largepayload.MemStore{} },
		"file":          func(t *testing.T) largepayload.Store { return largepayload.FileStore{Dir: t.TempDir()} },
	} {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			ctx := context.Background()
			big := strings.Repeat("0123456789abcdef", 5<<16) // 5 MiB
			for key, body := range map[string]string{"a/b/c.json": "{}", "big": big} {
				if err := s.Put(ctx, bucket, key, body); err != nil {
					t.Fatal(err)
				}
				rc, err := s.Get(ctx, bucket, key)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || string(got) != body {
					t.Fatalf("%s: read %d bytes (%v), want %d", key, len(got), err, len(body))
				}
				if err := s.Delete(ctx, bucket, key); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get(ctx, bucket, key); !errors.Is(err, largepayload.ErrNotFound) {
					t.Errorf("%s after Delete: %v", key, err)
				}
				if err := s.Delete(ctx, bucket, key); err != nil {
					t.Errorf("deleting again: %v", err)
				}
			}
			if _, err := s.Get(ctx, bucket, "never"); !errors.Is(err, largepayload.ErrNotFound) {
				t.Errorf("missing key: %v", err)
			}
			// Reading ends when the context ends.
			if err := s.Put(ctx, bucket, "big", big); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			rc, err := s.Get(cctx, bucket, "big")
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			buf := make([]byte, 1024)
			if _, err := io.ReadFull(rc, buf); err != nil {
				t.Fatal(err)
			}
			cancel()
			if _, err := io.ReadAll(rc); err == nil {
				t.Error("reading went on after the context ended")
			}
		})
	}
}

func TestFileStoreRefusesPaths(t *testing.T) {
	s := largepayload.FileStore{Dir: t.TempDir()}
	for _, bk := range [][2]string{{bucket, "../x"}, {bucket, "/etc/passwd"}, {"..", "x"}, {bucket, "a//b"}, {"a/b", "c"}, {bucket, ""}, {bucket, `a\..\b`}} {
		if err := s.Put(context.Background(), bk[0], bk[1], "x"); err == nil {
			t.Errorf("Put %q %q succeeded", bk[0], bk[1])
		}
	}
}
