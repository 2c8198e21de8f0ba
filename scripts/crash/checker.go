package main

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Kinds of violation. Each names one of the guarantees the crash test
// checks; see README.md for their precise definitions.
const (
	kindLostSend     = "lost-send"               // (1) an acknowledged send was never received
	kindResurrected  = "deleted-returned"        // (2) a receive returned a body after its delete was acknowledged
	kindFIFOOrder    = "fifo-order"              // (3) FIFO order within a group broken
	kindCountBack    = "receive-count-backwards" // (4) ApproximateReceiveCount went down
	kindStoreOpen    = "store-open"              // (5) the server did not come up on the data dir
	kindUnknownBody  = "unknown-body"            // a receive returned a body nobody sent
	kindMessageID    = "message-id-changed"      // one body under two message ids: a duplicate
	kindSequence     = "sequence-number"         // FIFO sequence numbers not increasing within a group, or changed
	kindQueueLost    = "queue-lost"              // a created queue was gone after a restart
	kindDrainTimeout = "drain-incomplete"        // the final drain did not empty the queues in time
	kindServerExit   = "server-exit"             // the final graceful stop failed
)

// violation is one broken guarantee.
type violation struct {
	Cycle  int    // the cycle it was detected in; 0 for the final drain and checks
	Kind   string // one of the kind* constants
	Body   string // the message body concerned, if any
	Detail string
	// Related names other bodies whose history explains the violation.
	Related []string
}

func (v violation) String() string {
	where := "final drain"
	if v.Cycle > 0 {
		where = "cycle " + strconv.Itoa(v.Cycle)
	}
	if v.Body == "" {
		return fmt.Sprintf("%s: %s: %s", where, v.Kind, v.Detail)
	}
	return fmt.Sprintf("%s: %s: %s: %s", where, v.Kind, v.Body, v.Detail)
}

// obs is one receive that returned a body: when the call started and
// returned (on the checker's monotonic clock) and the receive count it
// reported.
type obs struct {
	start, returned time.Duration
	count           int
}

// msgState is everything the driver knows about one body.
type msgState struct {
	body  string
	fifo  bool
	group int // FIFO only
	k     int // FIFO only: position in its group

	issued    int  // send attempts made
	acked     bool // a send of it was acknowledged
	ackCycle  int
	messageID string // from the first acknowledgement or receive
	seq       string // FIFO sequence number, likewise

	received int   // how many receive responses carried it
	obs      []obs // every receive that returned it

	delPending int // delete attempts issued and not definitively rejected
	delIssued  bool
	delAcked   bool
	delAckedAt time.Duration // earliest acknowledgement of a delete

	hist []string // what happened to it, for reports
}

// floor records that a receive response, recorded at time at, carried
// messages of a group whose smallest position was min; max is the largest
// such min recorded so far (prefix maximum), since at that moment the
// engine claimed every earlier message of the group deleted.
type floor struct {
	at  time.Duration
	max int
}

// groupState is one FIFO group's history.
type groupState struct {
	msgs   []*msgState // by position k
	floors []floor     // in recording order, so by at
	hint   int         // every k < hint has (or had) a delete issued
}

// firstUndeleted returns the first position whose message has no delete
// issued that could have taken effect.
func (g *groupState) firstUndeleted() int {
	for g.hint < len(g.msgs) && g.msgs[g.hint].delPending > 0 {
		g.hint++
	}
	return g.hint
}

// floorBefore returns the highest floor recorded strictly before t, or -1.
func (g *groupState) floorBefore(t time.Duration) int {
	i := sort.Search(len(g.floors), func(i int) bool { return g.floors[i].at >= t })
	if i == 0 {
		return -1
	}
	return g.floors[i-1].max
}

// checker holds the driver's knowledge across cycles and checks every
// observation against it as it arrives. It is safe for concurrent use.
type checker struct {
	mu         sync.Mutex
	clock      func() time.Duration // monotonic time since the start
	cycle      int
	msgs       map[string]*msgState
	groups     []*groupState
	nextStd    int
	violations []violation

	// statistics
	sendsIssued   int // send attempts (entries)
	acked         int // bodies whose send was acknowledged
	ackedFIFO     int // of which on the FIFO queue
	receivedMsgs  int // messages returned by receives, duplicates included
	deleted       int // bodies whose delete was acknowledged
	maxCount      int
	outstanding   [2]int // acknowledged, no delete issued: standard, FIFO
	deleteRejects int
}

// newChecker returns a checker for groups FIFO groups.
func newChecker(groups int) *checker {
	t0 := time.Now()
	c := &checker{clock: func() time.Duration { return time.Since(t0) }, msgs: make(map[string]*msgState)}
	c.groups = make([]*groupState, groups)
	for i := range c.groups {
		c.groups[i] = &groupState{}
	}
	return c
}

// now is the checker's monotonic clock.
func (c *checker) now() time.Duration { return c.clock() }

func (c *checker) setCycle(n int) {
	c.mu.Lock()
	c.cycle = n
	c.mu.Unlock()
}

// violate records a violation. Callers hold mu.
func (c *checker) violate(kind, body, format string, args ...any) {
	c.violations = append(c.violations, violation{Cycle: c.cycle, Kind: kind, Body: body, Detail: fmt.Sprintf(format, args...)})
}

// violateRel records a violation that other bodies help explain. Callers
// hold mu.
func (c *checker) violateRel(related []string, kind, body, format string, args ...any) {
	c.violate(kind, body, format, args...)
	c.violations[len(c.violations)-1].Related = related
}

// event appends to st's history. Callers hold mu.
func (c *checker) event(st *msgState, format string, args ...any) {
	st.hist = append(st.hist, fmt.Sprintf("cycle %d, %v: ", c.cycle, c.now().Round(time.Millisecond))+fmt.Sprintf(format, args...))
}

// history returns what happened to body.
func (c *checker) history(body string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.msgs[body]; st != nil {
		return append([]string(nil), st.hist...)
	}
	return nil
}

// report records a violation found outside the checker (start-up, drain).
func (c *checker) report(kind, body, format string, args ...any) {
	c.mu.Lock()
	c.violate(kind, body, format, args...)
	c.mu.Unlock()
}

// newStd registers a new standard-queue body.
func (c *checker) newStd() *msgState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &msgState{body: "std-" + strconv.Itoa(c.nextStd)}
	c.nextStd++
	c.msgs[st.body] = st
	return st
}

// newFIFO registers the next body of FIFO group g.
func (c *checker) newFIFO(g int) *msgState {
	c.mu.Lock()
	defer c.mu.Unlock()
	gs := c.groups[g]
	k := len(gs.msgs)
	st := &msgState{body: fmt.Sprintf("fifo-%d-%d", g, k), fifo: true, group: g, k: k}
	gs.msgs = append(gs.msgs, st)
	c.msgs[st.body] = st
	return st
}

// backlog returns how many acknowledged messages of a queue have no
// delete issued (standard: fifo false), and for FIFO group g how many
// messages follow its first undeleted one.
func (c *checker) backlog(fifo bool, g int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !fifo {
		return c.outstanding[0]
	}
	gs := c.groups[g]
	return len(gs.msgs) - gs.firstUndeleted()
}

func (c *checker) sendIssued(sts []*msgState) {
	c.mu.Lock()
	for _, st := range sts {
		st.issued++
		c.sendsIssued++
		c.event(st, "send issued")
	}
	c.mu.Unlock()
}

// sendResult records the outcome of sending st: res is nil when the
// request as a whole failed (outcome unknown).
func (c *checker) sendResult(st *msgState, res *backend.SendResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case res == nil:
		c.event(st, "send outcome unknown")
		return // neither counts as acknowledged
	case res.Err != nil:
		c.event(st, "send rejected: %v", res.Err)
		return
	}
	c.event(st, "send acknowledged: id %s seq %s", res.MessageID, res.SequenceNumber)
	if !st.acked {
		st.acked = true
		st.ackCycle = c.cycle
		c.acked++
		if st.fifo {
			c.ackedFIFO++
		}
		if !st.delIssued {
			c.outstanding[b2i(st.fifo)]++
		}
	}
	c.checkIDs(st, res.MessageID, res.SequenceNumber, "send acknowledgement")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkIDs checks that a body keeps one message id and, on FIFO queues,
// one sequence number, increasing with its position in its group.
// Callers hold mu.
func (c *checker) checkIDs(st *msgState, id, seq, where string) {
	if id != "" {
		if st.messageID == "" {
			st.messageID = id
		} else if st.messageID != id {
			c.violate(kindMessageID, st.body, "%s has message id %s, earlier %s (the body exists twice)", where, id, st.messageID)
		}
	}
	if !st.fifo || seq == "" {
		return
	}
	if st.seq == "" {
		st.seq = seq
		gs := c.groups[st.group]
		if st.k > 0 {
			if p := gs.msgs[st.k-1]; p.seq != "" && cmpDecimal(p.seq, seq) >= 0 {
				c.violate(kindSequence, st.body, "sequence number %s is not above %s of %s, sent before it", seq, p.seq, p.body)
			}
		}
		if st.k+1 < len(gs.msgs) {
			if n := gs.msgs[st.k+1]; n.seq != "" && cmpDecimal(seq, n.seq) >= 0 {
				c.violate(kindSequence, st.body, "sequence number %s is not below %s of %s, sent after it", seq, n.seq, n.body)
			}
		}
	} else if st.seq != seq {
		c.violate(kindSequence, st.body, "%s has sequence number %s, earlier %s", where, seq, st.seq)
	}
}

// cmpDecimal compares two decimal numbers without leading zeros.
func cmpDecimal(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// received records and checks one receive response: the call started at
// start and returned at returned (both from now).
func (c *checker) received(fifo bool, start, returned time.Duration, msgs []*backend.Message) {
	if len(msgs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	inResp := make(map[*msgState]bool, len(msgs))
	lastK := make(map[int]int) // group -> last position seen in this response
	minK := make(map[int]int)  // group -> smallest position in this response
	var groupsSeen []int       // in order of first appearance
	for _, m := range msgs {
		c.receivedMsgs++
		st := c.msgs[m.Body]
		if st == nil || st.fifo != fifo {
			c.violate(kindUnknownBody, m.Body, "returned by a receive on the %s queue, but never sent there", queueKind(fifo))
			continue
		}
		st.received++
		c.event(st, "received: id %s seq %s count %s, by a receive started %v returned %v", m.MessageID,
			m.Attributes["SequenceNumber"], m.Attributes["ApproximateReceiveCount"],
			start.Round(time.Millisecond), returned.Round(time.Millisecond))
		count, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		if err != nil || count < 1 {
			c.violate(kindCountBack, st.body, "ApproximateReceiveCount %q is not a positive number", m.Attributes["ApproximateReceiveCount"])
		}
		c.maxCount = max(c.maxCount, count)
		c.checkIDs(st, m.MessageID, m.Attributes["SequenceNumber"], "a receive")

		// (2) No acknowledged delete comes back.
		if st.delAcked && st.delAckedAt < start {
			c.violate(kindResurrected, st.body, "returned (receive count %d) by a receive that started %v after its delete was acknowledged",
				count, (start - st.delAckedAt).Round(time.Millisecond))
		}

		// (4) Receive counts never go backwards.
		for _, o := range st.obs {
			if o.returned < start && count < o.count {
				c.violate(kindCountBack, st.body, "receive count %d, but a receive that returned %v before this one started saw %d",
					count, (start - o.returned).Round(time.Millisecond), o.count)
			}
			if o.start > returned && o.count < count {
				c.violate(kindCountBack, st.body, "receive count %d, but a receive that started %v after this one returned saw %d",
					o.count, (o.start - returned).Round(time.Millisecond), count)
			}
		}
		st.obs = append(st.obs, obs{start: start, returned: returned, count: count})

		if !fifo {
			continue
		}
		// (3) FIFO order within the group.
		gs := c.groups[st.group]
		if last, ok := lastK[st.group]; ok && st.k <= last {
			c.violateRel([]string{gs.msgs[last].body}, kindFIFOOrder, st.body, "came after %s in the same receive response", gs.msgs[last].body)
		}
		if _, ok := minK[st.group]; !ok {
			minK[st.group] = st.k
			groupsSeen = append(groupsSeen, st.group)
		}
		lastK[st.group] = st.k
		for j := gs.firstUndeleted(); j < st.k; j++ {
			p := gs.msgs[j]
			if p.delPending > 0 || inResp[p] {
				continue
			}
			c.violateRel([]string{p.body}, kindFIFOOrder, st.body, "returned while %s, earlier in its group, had no delete issued and was not in the same response", p.body)
			break
		}
		if f := gs.floorBefore(start); st.k < f {
			var rel []string
			for j := st.k + 1; j <= f; j++ {
				rel = append(rel, gs.msgs[j].body)
			}
			c.violateRel(rel, kindFIFOOrder, st.body, "returned by a receive that started after a response had handed out %s of its group without it (so it had been deleted)",
				gs.msgs[f].body)
		}
		inResp[st] = true
	}
	now := c.now()
	for _, g := range groupsSeen {
		gs := c.groups[g]
		m := minK[g]
		if n := len(gs.floors); n > 0 {
			m = max(m, gs.floors[n-1].max)
		}
		gs.floors = append(gs.floors, floor{at: now, max: m})
	}
}

func queueKind(fifo bool) string {
	if fifo {
		return "FIFO"
	}
	return "standard"
}

// deleteIssued records that deletes of sts are about to be sent.
func (c *checker) deleteIssued(sts []*msgState) {
	c.mu.Lock()
	for _, st := range sts {
		c.event(st, "delete issued")
		st.delPending++
		if !st.delIssued {
			st.delIssued = true
			if st.acked {
				c.outstanding[b2i(st.fifo)]--
			}
		}
	}
	c.mu.Unlock()
}

// deleteResult records the outcome of one delete of st that returned at
// returned: res is nil when the request as a whole failed (outcome
// unknown); res.Err not nil means the delete certainly did not happen.
func (c *checker) deleteResult(st *msgState, returned time.Duration, res *backend.EntryResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res == nil {
		c.event(st, "delete outcome unknown")
		return
	}
	if res.Err != nil {
		c.event(st, "delete rejected: %v", res.Err)
		c.deleteRejects++
		st.delPending--
		if st.fifo && st.delPending == 0 {
			gs := c.groups[st.group]
			gs.hint = min(gs.hint, st.k)
		}
		return
	}
	c.event(st, "delete acknowledged, returned %v", returned.Round(time.Millisecond))
	if !st.delAcked {
		c.deleted++
		st.delAcked = true
		st.delAckedAt = returned
	} else {
		st.delAckedAt = min(st.delAckedAt, returned)
	}
	// (2), the other way round: a receive that started after this
	// acknowledgement and was recorded before it.
	for _, o := range st.obs {
		if o.start > returned {
			c.violate(kindResurrected, st.body, "returned (receive count %d) by a receive that started %v after its delete was acknowledged",
				o.count, (o.start - returned).Round(time.Millisecond))
		}
	}
}

// finalCheck applies check (1) once every queue has been drained: every
// body whose send was acknowledged was received at least once.
func (c *checker) finalCheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lost []*msgState
	for _, st := range c.msgs {
		if st.acked && st.received == 0 {
			lost = append(lost, st)
		}
	}
	sort.Slice(lost, func(i, j int) bool { return lost[i].body < lost[j].body })
	for _, st := range lost {
		c.violate(kindLostSend, st.body, "send acknowledged in cycle %d, never received, not found in the final drain", st.ackCycle)
	}
}

// snapshot returns the violations so far and the statistics.
func (c *checker) snapshot() ([]violation, stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]violation(nil), c.violations...), stats{
		sent: c.sendsIssued, acked: c.acked, ackedFIFO: c.ackedFIFO, received: c.receivedMsgs, deleted: c.deleted,
		maxCount: c.maxCount, deleteRejects: c.deleteRejects,
	}
}

// stats are the run's totals.
type stats struct {
	sent, acked, ackedFIFO, received, deleted, maxCount, deleteRejects int
}

// Fault injection for -selftest: each pretends the driver saw something
// that never happened, so that a correct engine must then be reported.

// injectDeleteAck pretends that a delete of body was acknowledged now.
func (c *checker) injectDeleteAck(body string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.msgs[body]
	if st == nil {
		return false
	}
	st.delAcked, st.delAckedAt = true, c.now()
	return true
}

// injectReceive pretends that a receive that returned now saw body with
// receive count count.
func (c *checker) injectReceive(body string, count int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.msgs[body]
	if st == nil {
		return false
	}
	now := c.now()
	st.obs = append(st.obs, obs{start: now, returned: now, count: count})
	return true
}

// injectPhantom pretends that a send of a body that was never sent was
// acknowledged.
func (c *checker) injectPhantom(body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs[body] = &msgState{body: body, acked: true, ackCycle: c.cycle}
}

// injectFloor pretends that a receive response just handed out position
// k of FIFO group g and nothing before it.
func (c *checker) injectFloor(g, k int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gs := c.groups[g]
	m := k
	if n := len(gs.floors); n > 0 {
		m = max(m, gs.floors[n-1].max)
	}
	gs.floors = append(gs.floors, floor{at: c.now(), max: m})
}
