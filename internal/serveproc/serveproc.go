// Package serveproc runs `postbox serve` as a child process on a free port
// of 127.0.0.1 for the programs that test it from outside (the crash test,
// the shutdown chaos test): start it, wait until it answers, kill it or stop
// it gracefully, and read what it logged.
package serveproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// Server is one `postbox serve` child process.
type Server struct {
	// Addr is the address it listens on (127.0.0.1:PORT).
	Addr string

	cmd     *exec.Cmd
	logPath string
	logFrom int64 // offset in the log where this process's output starts
	done    chan struct{}
	waitErr error
}

// Config says how to run postbox serve.
type Config struct {
	Bin     string        // the postbox binary
	DataDir string        // --data-dir
	LogPath string        // its output is appended here
	Sync    string        // --sync, if not empty
	Timeout time.Duration // how long start-up may take
	// InMemory leaves out --data-dir: a demonstration that the crash
	// test's checks catch a store that keeps nothing.
	InMemory bool
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// Start starts postbox serve and waits until it answers ListQueues,
// returning a service connected to it; label heads its output in the log.
// A port taken between choosing and listening is retried on another; any
// other failure to come up is returned with the process's output.
func Start(ctx context.Context, cfg Config, label string) (*Server, *awssqs.Service, error) {
	for attempt := 0; ; attempt++ {
		s, svc, err := startOnce(ctx, cfg, label)
		if err == nil {
			return s, svc, nil
		}
		if attempt < 3 && s != nil && strings.Contains(s.Output(), "address already in use") {
			continue
		}
		return nil, nil, err
	}
}

func startOnce(ctx context.Context, cfg Config, label string) (*Server, *awssqs.Service, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, fmt.Errorf("choosing a port: %w", err)
	}
	logf, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "== %s: postbox serve on 127.0.0.1:%d\n", label, port)
	fi, err := logf.Stat()
	if err != nil {
		return nil, nil, err
	}
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), logPath: cfg.LogPath, logFrom: fi.Size(), done: make(chan struct{})}
	args := []string{"serve", "--addr", s.Addr, "--log-level", "warn"}
	if !cfg.InMemory {
		args = append(args, "--data-dir", cfg.DataDir)
		if cfg.Sync != "" {
			args = append(args, "--sync", cfg.Sync)
		}
	}
	s.cmd = exec.Command(cfg.Bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", cfg.Bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()

	svc, err := awssqs.OpenEndpoint(ctx, "http://"+s.Addr)
	if err != nil {
		s.Kill()
		return s, nil, err
	}
	deadline := time.Now().Add(cfg.Timeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := svc.ListQueues(rctx, backend.ListQueuesRequest{})
		cancel()
		if err == nil {
			return s, svc, nil
		}
		select {
		case <-s.done:
			svc.Close()
			return s, nil, fmt.Errorf("postbox serve exited before answering (%v); its output:\n%s", s.waitErr, s.Output())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			svc.Close()
			s.Kill()
			return s, nil, fmt.Errorf("postbox serve did not answer ListQueues within %v (last error: %v); its output:\n%s",
				cfg.Timeout, err, s.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// Terminate sends SIGTERM and waits up to timeout for a graceful exit.
func (s *Server) Terminate(timeout time.Duration) error {
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.Kill()
		return fmt.Errorf("postbox serve did not stop within %v of SIGTERM", timeout)
	}
	if s.waitErr != nil {
		return fmt.Errorf("postbox serve exited with %v after SIGTERM; its output:\n%s", s.waitErr, s.Output())
	}
	return nil
}

// Output returns what this process wrote to the log (the last 8 KiB).
func (s *Server) Output() string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if _, err := f.Seek(s.logFrom, io.SeekStart); err != nil {
		return err.Error()
	}
	b, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, io.EOF) {
		return err.Error()
	}
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(bytes.TrimRight(b, "\n"))
}
