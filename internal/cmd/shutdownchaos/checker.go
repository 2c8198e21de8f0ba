package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Kinds of violation; see scripts/shutdown/README.md.
const (
	kindInvisible    = "left-invisible"   // messages still invisible right after a graceful exit
	kindExitTimeout  = "exit-timeout"     // the worker did not exit within ShutdownTimeout + margin of SIGTERM
	kindWorkerExit   = "worker-exit"      // the worker exited other than with status 0
	kindFIFOOrder    = "fifo-order"       // a group's handled sequence skipped ahead
	kindLost         = "lost"             // an acknowledged send was never handled
	kindUnknownBody  = "unknown-body"     // a handled body nobody sent
	kindDrainTimeout = "drain-incomplete" // the final drain did not empty the queues in time
	kindServerExit   = "server-exit"      // postbox serve did not stop cleanly on SIGTERM at the end
)

// violation is one broken guarantee.
type violation struct {
	Cycle  int // the cycle it was found in; 0: the final drain
	Kind   string
	Detail string
}

func (v violation) String() string {
	where := "final drain"
	if v.Cycle > 0 {
		where = "cycle " + strconv.Itoa(v.Cycle)
	}
	return where + ": " + v.Kind + ": " + v.Detail
}

// Bodies name their queue generation and, on FIFO queues, group and
// position: std-GEN-N and fifo-GEN-GROUP-SEQ, SEQ counting from 0 within a
// group of a generation's FIFO queue.
func stdBody(gen, n int) string { return "std-" + strconv.Itoa(gen) + "-" + strconv.Itoa(n) }

func fifoBody(gen, group, seq int) string {
	return "fifo-" + strconv.Itoa(gen) + "-" + strconv.Itoa(group) + "-" + strconv.Itoa(seq)
}

// Queue names of generation gen.
func stdQueueName(gen int) string  { return "shutdown-std-" + strconv.Itoa(gen) }
func fifoQueueName(gen int) string { return "shutdown-fifo-" + strconv.Itoa(gen) + ".fifo" }

// queueOf returns the name of the queue a body was sent to ("" if it names
// none).
func queueOf(body string) string {
	if k, _, ok := parseFIFOBody(body); ok {
		return fifoQueueName(k.gen)
	}
	rest, ok := strings.CutPrefix(body, "std-")
	if !ok {
		return ""
	}
	gen, _, ok := strings.Cut(rest, "-")
	if n, err := strconv.Atoi(gen); ok && err == nil && n >= 0 {
		return stdQueueName(n)
	}
	return ""
}

// groupKey is one FIFO group of one generation's FIFO queue.
type groupKey struct{ gen, group int }

// parseFIFOBody returns the group and position a FIFO body names.
func parseFIFOBody(body string) (groupKey, int, bool) {
	rest, ok := strings.CutPrefix(body, "fifo-")
	if !ok {
		return groupKey{}, 0, false
	}
	f := strings.Split(rest, "-")
	if len(f) != 3 {
		return groupKey{}, 0, false
	}
	var n [3]int
	for i, s := range f {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return groupKey{}, 0, false
		}
		n[i] = v
	}
	return groupKey{n[0], n[1]}, n[2], true
}

// fifoOrder checks that, within each group, handled messages never skip
// ahead: each handled position is at most one past the highest handled
// before in its group. Repeats (at-least-once redeliveries) and going back
// to an earlier position (a redelivery of one already handled) pass.
type fifoOrder struct{ max map[groupKey]int }

func newFIFOOrder() *fifoOrder { return &fifoOrder{max: map[groupKey]int{}} }

// observe records that position seq of group k was handled. It reports
// whether that is in order, and the highest position handled before (-1:
// none).
func (o *fifoOrder) observe(k groupKey, seq int) (ok bool, before int) {
	before, seen := o.max[k]
	if !seen {
		before = -1
	}
	if seq > before {
		o.max[k] = seq
	}
	return seq <= before+1, before
}

// invisibleViolations decides the check made right after a worker exited
// gracefully: every queue must report ApproximateNumberOfMessagesNotVisible
// 0, since the worker gave back or deleted everything it received. It
// returns one description per queue that does not, in queue order.
func invisibleViolations(names []string, notVisible []int) []string {
	var out []string
	for i, n := range notVisible {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s: ApproximateNumberOfMessagesNotVisible=%d after the worker exited", names[i], n))
		}
	}
	return out
}

// lostBodies returns the acknowledged bodies that were never handled,
// sorted.
func lostBodies(acked map[string]bool, handled map[string]int) []string {
	var out []string
	for b, ok := range acked {
		if ok && handled[b] == 0 {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// tally counts passed and failed cycles: a cycle fails when a violation
// was found in it; the final drain's (cycle 0) count against the last
// cycle; cycles a stopped run did not complete count as failed.
func tally(cycles, completed int, vs []violation, stopped bool) (passed, failed int) {
	bad := map[int]bool{}
	for _, v := range vs {
		c := v.Cycle
		if c == 0 {
			c = cycles
		}
		bad[c] = true
	}
	for c := 1; c <= completed; c++ {
		if !bad[c] {
			passed++
		}
	}
	if stopped {
		passed = min(passed, cycles-1)
	}
	return passed, cycles - passed
}

// checker gathers what was sent and handled, across cycles and worker
// processes. It is safe for concurrent use.
type checker struct {
	mu      sync.Mutex
	cycle   int
	acked   map[string]bool // every body sent: true once its send was acknowledged
	handled map[string]int  // how many times each body was handled
	order   *fifoOrder
	vs      []violation

	nHandled, nDup int
	// per queue name: acknowledged sends and distinct bodies handled, for
	// the producer's backlog
	sentQ, handledQ map[string]int
}

func newChecker() *checker {
	return &checker{
		acked: map[string]bool{}, handled: map[string]int{}, order: newFIFOOrder(),
		sentQ: map[string]int{}, handledQ: map[string]int{},
	}
}

func (c *checker) setCycle(n int) {
	c.mu.Lock()
	c.cycle = n
	c.mu.Unlock()
}

func (c *checker) report(kind, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reportLocked(kind, format, args...)
}

func (c *checker) reportLocked(kind, format string, args ...any) {
	c.vs = append(c.vs, violation{Cycle: c.cycle, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// issued records bodies about to be sent (before the request, so that a
// handler that sees one before the acknowledgement knows it).
func (c *checker) issued(bodies []string) {
	c.mu.Lock()
	for _, b := range bodies {
		c.acked[b] = false
	}
	c.mu.Unlock()
}

// sent records that the sends of bodies to queue q were acknowledged.
func (c *checker) sent(q string, bodies []string) {
	c.mu.Lock()
	for _, b := range bodies {
		c.acked[b] = true
	}
	c.sentQ[q] += len(bodies)
	c.mu.Unlock()
}

// backlog returns how many acknowledged bodies of queue q were not handled
// yet.
func (c *checker) backlog(q string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sentQ[q] - c.handledQ[q]
}

// handle records that a worker handled body, in the order the workers
// reported.
func (c *checker) handle(body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nHandled++
	if _, ok := c.acked[body]; !ok {
		c.reportLocked(kindUnknownBody, "%s: handled, never sent", body)
		return
	}
	c.handled[body]++
	if c.handled[body] > 1 {
		c.nDup++
	} else {
		c.handledQ[queueOf(body)]++
	}
	if k, seq, ok := parseFIFOBody(body); ok {
		if ok, before := c.order.observe(k, seq); !ok {
			c.reportLocked(kindFIFOOrder, "%s: handled when the highest of its group handled before was %d", body, before)
		}
	}
}

// finalCheck reports every acknowledged body never handled.
func (c *checker) finalCheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	lost := lostBodies(c.acked, c.handled)
	for i, b := range lost {
		if i == 20 {
			c.reportLocked(kindLost, "... and %d more", len(lost)-20)
			break
		}
		c.reportLocked(kindLost, "%s: send acknowledged, never handled", b)
	}
}

// counts is a snapshot of the checker's totals.
type counts struct {
	sent, handled, dup int
	vs                 []violation
}

func (c *checker) snapshot() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ok := range c.acked {
		if ok {
			n++
		}
	}
	return counts{sent: n, handled: c.nHandled, dup: c.nDup, vs: slices.Clone(c.vs)}
}
