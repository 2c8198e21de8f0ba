package consumer

import "sync"

// groups schedules the messages of a FIFO queue: one message of a group runs
// at a time, in the order received; different groups run in parallel. When a
// message fails, the group's later messages that are already received are
// handed back to be released, so none runs out of order.
type groups struct {
	mu sync.Mutex
	m  map[string][]*job // a running group's waiting messages, in order
}

func newGroups() *groups { return &groups{m: make(map[string][]*job)} }

// submit takes the messages of one receive, in order, and returns those
// that may start now: the first of each group that has no message running.
// The others wait behind their group's running message. It takes them all
// under one lock, so that a failure in their group cannot be handled
// between two of them (and let a later one start first).
func (g *groups) submit(jobs []*job) (start []*job) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, j := range jobs {
		id := j.msg.GroupID
		if waiting, busy := g.m[id]; busy {
			g.m[id] = append(waiting, j)
			continue
		}
		g.m[id] = nil
		start = append(start, j)
	}
	return start
}

// done ends j, the running message of its group. If it succeeded the group's
// next message (if any) is returned to run; if it failed, the group's waiting
// messages are returned to be released.
func (g *groups) done(j *job, succeeded bool) (next *job, release []*job) {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := j.msg.GroupID
	waiting, ok := g.m[id]
	if !ok {
		return nil, nil
	}
	if !succeeded {
		release, waiting = waiting, nil
	}
	if len(waiting) == 0 {
		delete(g.m, id)
		return nil, release
	}
	g.m[id] = waiting[1:]
	return waiting[0], release
}

// drain takes every waiting message out of the groups, for a shutdown to
// give back; the running ones then end with no next message.
func (g *groups) drain() []*job {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*job
	for id, waiting := range g.m {
		out = append(out, waiting...)
		g.m[id] = nil
	}
	return out
}
