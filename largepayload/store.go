package largepayload

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrNotFound is matched (errors.Is) by a Store's error for a payload that
// does not exist.
var ErrNotFound = errors.New("largepayload: payload not found")

// Store holds payloads by bucket and key. It is safe for concurrent use.
type Store interface {
	// Put stores body at bucket/key, replacing what is there.
	Put(ctx context.Context, bucket, key, body string) error
	// Get opens the payload at bucket/key for reading; the error matches
	// ErrNotFound when there is none. Reading ends with ctx's error once
	// ctx ends. The caller closes the reader.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
	// Delete removes the payload at bucket/key; removing one that does not
	// exist succeeds.
	Delete(ctx context.Context, bucket, key string) error
}

// MemStore is a Store in memory, for tests and the in-process engine. The
// zero MemStore is empty and ready.
type MemStore struct {
	mu      sync.Mutex
	objects map[Pointer]string
}

// Put implements Store.
func (s *MemStore) Put(ctx context.Context, bucket, key, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects == nil {
		s.objects = make(map[Pointer]string)
	}
	s.objects[Pointer{bucket, key}] = body
	return nil
}

// Get implements Store.
func (s *MemStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	body, ok := s.objects[Pointer{bucket, key}]
	s.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	return io.NopCloser(&ctxReader{ctx: ctx, r: strings.NewReader(body)}), nil
}

// Delete implements Store.
func (s *MemStore) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, Pointer{bucket, key})
	return nil
}

// Len returns how many payloads s holds.
func (s *MemStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// FileStore is a Store in a directory: the payload at bucket/key is the
// file Dir/bucket/key. Keys may contain slashes but no "." or ".."
// elements. Writes go to a temporary file renamed into place.
type FileStore struct {
	Dir string
}

// path returns the file of bucket/key, or an error for names that would
// leave the directory.
func (s FileStore) path(bucket, key string) (string, error) {
	for _, name := range []string{bucket, key} {
		if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) || strings.Contains(name, `\`) {
			return "", errors.New("largepayload: unsafe bucket or key " + name)
		}
		for elem := range strings.SplitSeq(name, "/") {
			if elem == "" || elem == "." || elem == ".." {
				return "", errors.New("largepayload: unsafe bucket or key " + name)
			}
		}
	}
	if strings.Contains(bucket, "/") {
		return "", errors.New("largepayload: bucket with a slash " + bucket)
	}
	return filepath.Join(s.Dir, bucket, filepath.FromSlash(key)), nil
}

// Put implements Store.
func (s FileStore) Put(ctx context.Context, bucket, key, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := s.path(bucket, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, &ctxReader{ctx: ctx, r: strings.NewReader(body)})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Get implements Store.
func (s FileStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := s.path(bucket, key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&ctxReader{ctx: ctx, r: f}, f}, nil
}

// Delete implements Store.
func (s FileStore) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := s.path(bucket, key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ctxReader ends reading with ctx's error once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
