package consumer

import "sync"

// groups schedules the messages of a FIFO queue: one message of a group runs
// at a time, in the order received; different groups run in parallel. When a
// message fails, the group's later messages that are already received are
// handed back to be released, so none runs out of order.
type groups struct {
	mu     sync.Mutex
	m      map[string]*group
	closed bool
}

type group struct {
	pending []*job // received, waiting for the running one
}

func newGroups() *groups { return &groups{m: make(map[string]*group)} }

// submit takes the messages of one receive, in order, and returns those
// that may start now: the first of each group that has no message running.
// The others wait behind their group's running message. It takes them all
// under one lock, so that a failure in their group cannot be handled
// between two of them (and let a later one start first). After drain,
// submit refuses everything (ok false): the caller releases jobs.
func (g *groups) submit(jobs []*job) (start []*job, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, false
	}
	for _, j := range jobs {
		id := j.msg.GroupID
		if gr, busy := g.m[id]; busy {
			gr.pending = append(gr.pending, j)
			continue
		}
		g.m[id] = &group{}
		start = append(start, j)
	}
	return start, true
}

// done ends j, the running message of its group. If it succeeded the group's
// next message (if any) is returned to run; if it failed, the group's waiting
// messages are returned to be released.
func (g *groups) done(j *job, succeeded bool) (next *job, release []*job) {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := j.msg.GroupID
	gr := g.m[id]
	if gr == nil {
		return nil, nil
	}
	if !succeeded {
		release = gr.pending
		gr.pending = nil
	}
	if len(gr.pending) == 0 || g.closed {
		delete(g.m, id)
		return nil, release
	}
	next = gr.pending[0]
	gr.pending[0] = nil
	gr.pending = gr.pending[1:]
	return next, release
}

// drain stops scheduling and returns every waiting message.
func (g *groups) drain() []*job {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	var out []*job
	for _, gr := range g.m {
		out = append(out, gr.pending...)
		gr.pending = nil
	}
	return out
}
