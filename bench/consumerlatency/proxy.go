package main

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a TCP proxy on 127.0.0.1 that models a network round trip: the
// bytes a client sends are forwarded to the server at once, and each chunk
// the server sends back is delivered to the client rtt after the proxy read
// it, in order per connection. Every connection is delayed on its own (a
// network is not one pipe): a slow answer on one connection holds up no
// other. Connection setup is not delayed (the client's handshake is with
// the proxy on loopback), which is kind to clients that open many
// connections.
//
// The proxy also counts the SQS actions it forwards, from the
// X-Amz-Target headers of the client's requests (aws-sdk-go-v2 speaks the
// JSON protocol to SQS).
type proxy struct {
	ln     net.Listener
	target string
	rtt    time.Duration

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	actions map[string]int64
	closed  bool
	wg      sync.WaitGroup
	opened  atomic.Int64
}

// startProxy listens on 127.0.0.1:0 and forwards to target (host:port).
func startProxy(target string, rtt time.Duration) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, rtt: rtt, conns: map[net.Conn]struct{}{}, actions: map[string]int64{}}
	p.wg.Go(p.accept)
	return p, nil
}

// URL is the proxy's endpoint, http://127.0.0.1:PORT.
func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Actions returns how many requests of each SQS action went through.
func (p *proxy) Actions() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]int64, len(p.actions))
	for k, v := range p.actions {
		m[k] = v
	}
	return m
}

// Connections is how many client connections the proxy accepted.
func (p *proxy) Connections() int64 { return p.opened.Load() }

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.opened.Add(1)
		p.wg.Go(func() { p.serve(client) })
	}
}

func (p *proxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)

	var wg sync.WaitGroup
	// Client to server: at once, counting actions on the way.
	wg.Go(func() {
		sc := actionScanner{count: p.count}
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				sc.write(buf[:n])
				if _, werr := server.Write(buf[:n]); werr != nil {
					client.Close()
					return
				}
			}
			if err != nil {
				closeWrite(server)
				return
			}
		}
	})
	// Server to client: each chunk rtt after it was read.
	type chunk struct {
		data []byte
		at   time.Time
	}
	chunks := make(chan chunk, 4096)
	wg.Go(func() {
		defer close(chunks)
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				chunks <- chunk{bytes.Clone(buf[:n]), time.Now()}
			}
			if err != nil {
				return
			}
		}
	})
	wg.Go(func() {
		for c := range chunks {
			if d := time.Until(c.at.Add(p.rtt)); d > 0 {
				time.Sleep(d)
			}
			if _, err := client.Write(c.data); err != nil {
				server.Close()
				for range chunks {
				}
				return
			}
		}
		closeWrite(client)
	})
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		return
	}
	c.Close()
}

func (p *proxy) count(action string) {
	p.mu.Lock()
	p.actions[action]++
	p.mu.Unlock()
}

// actionScanner finds "AmazonSQS.ACTION\r" in a byte stream split into
// arbitrary chunks.
type actionScanner struct {
	carry []byte
	count func(string)
}

var targetPrefix = []byte("AmazonSQS.")

func (s *actionScanner) write(b []byte) {
	data := append(s.carry, b...)
	for {
		i := bytes.Index(data, targetPrefix)
		if i < 0 {
			keep := min(len(data), len(targetPrefix)-1)
			s.carry = append(s.carry[:0:0], data[len(data)-keep:]...)
			return
		}
		rest := data[i+len(targetPrefix):]
		j := bytes.IndexByte(rest, '\r')
		if j < 0 {
			if len(rest) > 64 { // not a header value; skip it
				data = rest
				continue
			}
			s.carry = append(s.carry[:0:0], data[i:]...)
			return
		}
		s.count(string(rest[:j]))
		data = rest[j:]
	}
}
