package native

import "time"

// Fair queueing. A standard queue whose messages carry a MessageGroupId
// keeps one noisy tenant's backlog from delaying the others, as SQS fair
// queues do: a group is noisy while it holds more than 10% of the queue's
// in-flight messages and at least 30 of its own; it stays noisy until its
// backlog drains or it sends nothing for five minutes. Visible messages of
// quiet tenants are delivered first; a message without a group is a tenant
// of its own and never noisy. Fairness changes only the order of delivery:
// it adds no ordering guarantee and no group locking, and when only noisy
// work is left it is delivered at once (a consumer never idles for it).
//
// SQS also counts a group as noisy when it takes more than 10% of recent
// processing time; the engine does not measure processing time and uses the
// in-flight criterion alone.
const (
	noisyMinInflight = 30
	noisyShare       = 10 // percent of the queue's in-flight messages
	noisyQuietAfter  = 5 * time.Minute
)

// joinTenant attaches a freshly sent message to its group's tenant.
// Callers hold mu.
func (q *queue) joinTenant(m *message, nowNanos int64) {
	if q.tenants == nil {
		q.tenants = make(map[string]*group)
	}
	g := q.tenants[m.ext.groupID]
	if g == nil {
		g = &group{id: m.ext.groupID}
		q.tenants[g.id] = g
	}
	g.lastSend = nowNanos
	m.ext.grp = g
}

// tenantEnter counts a message that becomes visible or delayed in its
// tenant's backlog. Callers hold mu.
func (q *queue) tenantEnter(m *message) {
	g := m.ext.grp
	if q.tenants == nil {
		q.tenants = make(map[string]*group)
	}
	if cur := q.tenants[g.id]; cur != g {
		if cur == nil {
			q.tenants[g.id] = g // forgotten while its last message was in flight
		} else {
			m.ext.grp, g = cur, cur
		}
	}
	g.backlog++
}

// tenantLeave uncounts a message that leaves its tenant's backlog.
// Callers hold mu.
func (q *queue) tenantLeave(g *group) {
	g.backlog--
	if g.backlog == 0 {
		g.noisy = false // its backlog drained
	}
	q.forgetTenant(g)
}

func (q *queue) forgetTenant(g *group) {
	if g.backlog == 0 && g.inflight == 0 && q.tenants[g.id] == g {
		delete(q.tenants, g.id)
	}
}

// isNoisy reports whether m's tenant is noisy now. Callers hold mu.
func (q *queue) isNoisy(m *message, nowNanos int64) bool {
	g := m.group()
	if g == nil {
		return false
	}
	if g.noisy && nowNanos-g.lastSend >= int64(noisyQuietAfter) {
		g.noisy = false
	}
	if !g.noisy && g.inflight >= noisyMinInflight && g.inflight*100 > q.nInflight*noisyShare {
		g.noisy = true
	}
	return g.noisy
}

// popReady removes and returns the next visible message to deliver, or nil:
// held-back messages of tenants that are quiet again first (they are the
// oldest), then quiet messages in order, holding back noisy ones, and only
// then noisy ones, from the noisy tenant with the fewest messages in flight.
// Callers hold mu.
func (q *queue) popReady(nowNanos int64) *message {
	var back *group // the quiet-again tenant with the oldest held-back message
	live := q.noisy[:0]
	for _, g := range q.noisy {
		for g.deferred.len() > 0 && g.deferred.front().state != stateReady {
			popSlot(&g.deferred) // a tombstone
		}
		if g.deferred.len() == 0 {
			g.held = false
			continue
		}
		live = append(live, g)
		if !q.isNoisy(g.deferred.front(), nowNanos) && (back == nil || g.deferred.front().seq < back.deferred.front().seq) {
			back = g
		}
	}
	clear(q.noisy[len(live):])
	q.noisy = live
	if back != nil {
		return popSlot(&back.deferred)
	}
	for q.ready.len() > 0 {
		m := popSlot(&q.ready)
		if m.state != stateReady {
			continue // deleted while visible: a tombstone
		}
		if g := m.group(); g != nil && q.isNoisy(m, nowNanos) {
			g.deferred.push(m)
			m.inRing = true
			if !g.held {
				g.held = true
				q.noisy = append(q.noisy, g)
			}
			continue
		}
		return m
	}
	var least *group
	for _, g := range q.noisy {
		if g.deferred.len() > 0 && (least == nil || g.inflight < least.inflight) {
			least = g
		}
	}
	if least == nil {
		return nil
	}
	return popSlot(&least.deferred)
}

// heldBack calls fn for every held-back message ring. Callers hold mu.
func (q *queue) heldBack(fn func(r *ring[*message])) {
	for _, g := range q.noisy {
		fn(&g.deferred)
	}
}
