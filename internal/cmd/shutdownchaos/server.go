package main

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

// server is the `postbox serve --data-dir` child process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	logFrom int64 // offset in the log where this process's output starts
	done    chan struct{}
	waitErr error
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

// startServer starts postbox serve on dataDir and waits until it answers
// ListQueues, returning a service connected to it. A port taken between
// choosing and listening is retried on another.
func startServer(ctx context.Context, bin, dataDir, logPath string, timeout time.Duration) (*server, *awssqs.Service, error) {
	for attempt := 0; ; attempt++ {
		s, svc, err := startOnce(ctx, bin, dataDir, logPath, timeout)
		if err == nil {
			return s, svc, nil
		}
		if attempt < 3 && s != nil && strings.Contains(s.output(), "address already in use") {
			continue
		}
		return nil, nil, err
	}
}

func startOnce(ctx context.Context, bin, dataDir, logPath string, timeout time.Duration) (*server, *awssqs.Service, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, fmt.Errorf("choosing a port: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "== postbox serve on 127.0.0.1:%d\n", port)
	fi, err := logf.Stat()
	if err != nil {
		return nil, nil, err
	}
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(port), logPath: logPath, logFrom: fi.Size(), done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--addr", s.addr, "--data-dir", dataDir, "--log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()

	svc, err := awssqs.OpenEndpoint(ctx, "http://"+s.addr)
	if err != nil {
		s.kill()
		return s, nil, err
	}
	deadline := time.Now().Add(timeout)
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
			return s, nil, fmt.Errorf("postbox serve exited before answering (%v); its output:\n%s", s.waitErr, s.output())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			svc.Close()
			s.kill()
			return s, nil, fmt.Errorf("postbox serve did not answer ListQueues within %v (last error: %v); its output:\n%s",
				timeout, err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// terminate sends SIGTERM and waits up to timeout for a graceful exit.
func (s *server) terminate(timeout time.Duration) error {
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.kill()
		return fmt.Errorf("postbox serve did not stop within %v of SIGTERM", timeout)
	}
	if s.waitErr != nil {
		return fmt.Errorf("postbox serve exited with %v after SIGTERM; its output:\n%s", s.waitErr, s.output())
	}
	return nil
}

// output returns what this process wrote to the log (the last 8 KiB).
func (s *server) output() string {
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
