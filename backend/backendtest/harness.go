package backendtest

import (
	"context"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

// Env is one fresh backend instance for one test.
type Env struct {
	// Service is the backend under test. Scenarios reach queues only through
	// it, by the URLs it returns.
	Service backend.Service
	// Clock is the clock the backend runs on; scenarios advance it.
	Clock *clockwork.FakeClock
	// WaitingReceives reports how many Receive calls are blocked waiting for
	// a message, which lets a scenario know that a long poll is parked
	// without sleeping. A receive must be counted only once the deadline of
	// its wait is armed on Clock, so that advancing Clock past it ends the
	// wait. Required.
	WaitingReceives func() int
	// Reopen, when not nil, closes the backend and opens it again on the
	// same storage, returning the new service (durable engines). Scenarios
	// that support it call it mid-scenario; afterwards Service is the new
	// service and WaitingReceives must report on it.
	Reopen func(t *testing.T) backend.Service
}

// Harness describes a backend to the suite.
type Harness struct {
	// New returns a fresh, empty backend for one scenario. It registers its
	// own cleanup (closing the service) with t.Cleanup. It is called from
	// parallel subtests, so it must be safe for concurrent use.
	New func(t *testing.T) *Env

	// Capabilities: scenarios needing one the backend lacks are skipped
	// with t.Skip.

	// FIFO is true when the backend supports FIFO queues.
	FIFO bool
	// DeadLetter is true when the backend supports RedrivePolicy and
	// ListDeadLetterSourceQueues.
	DeadLetter bool
	// MoveTasks is true when the backend supports message move tasks.
	MoveTasks bool
	// FairQueues is true when the backend supports fair queueing of
	// standard queues by MessageGroupId.
	FairQueues bool

	// SkipSlow skips the scenarios that move a hundred thousand messages or
	// more (the in-flight limits, the noisy tenant), for backends where that
	// takes too long (a backend reached over the network). They are also
	// skipped under go test -short.
	SkipSlow bool
	// Remote is set for backends that reach a service over the network
	// (the AWS adapter). Their batch entry errors carry only what the wire
	// carries: no Error.SingleCode, which only an in-process backend can
	// give, so the scenarios do not ask for it.
	Remote bool
}

// capability is a feature a scenario may need.
type capability uint8

const (
	capFIFO capability = 1 << iota
	capDeadLetter
	capMoveTasks
	capFairQueues
)

func (h *Harness) has(c capability) bool {
	var have capability
	if h.FIFO {
		have |= capFIFO
	}
	if h.DeadLetter {
		have |= capDeadLetter
	}
	if h.MoveTasks {
		have |= capMoveTasks
	}
	if h.FairQueues {
		have |= capFairQueues
	}
	return have&c == c
}

func (c capability) String() string {
	var s string
	for _, x := range []struct {
		c    capability
		name string
	}{{capFIFO, "FIFO"}, {capDeadLetter, "DeadLetter"}, {capMoveTasks, "MoveTasks"}, {capFairQueues, "FairQueues"}} {
		if c&x.c != 0 {
			if s != "" {
				s += "+"
			}
			s += x.name
		}
	}
	return s
}

// scenario is one row of the suite: a behaviour checked on a fresh backend.
type scenario struct {
	name   string
	needs  capability // capabilities the scenario needs; 0 for none
	serial bool       // true when it must not run in parallel with others
	run    func(e *env)
}

// group is one table of scenarios, usually one file of this package. A new
// area of the contract (FIFO, dead letters, ...) is a new file with a new
// table, added to groups.
type group struct {
	name      string
	scenarios func() []scenario
}

// groups lists every table of the suite, in the order they run.
var groups = []group{
	{"Admin", adminScenarios},
	{"Messages", messageScenarios},
	{"Visibility", visibilityScenarios},
	{"LongPoll", longPollScenarios},
	{"Attributes", attributeScenarios},
	{"Concurrency", concurrencyScenarios},
	{"Close", closeScenarios},
	{"FIFO", fifoScenarios},
	{"Fair", fairScenarios},
	{"DeadLetter", deadLetterScenarios},
	{"MoveTasks", moveTaskScenarios},
}

// Run runs every scenario of the suite on the backend h describes, each as
// a subtest named "<Group>/<Scenario>" on a fresh Env, in parallel where
// safe.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("backendtest: Harness.New is nil")
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, sc := range g.scenarios() {
				t.Run(sc.name, func(t *testing.T) {
					if !h.has(sc.needs) {
						t.Skipf("backend lacks %v", sc.needs)
					}
					if !sc.serial {
						t.Parallel()
					}
					sc.run(newEnv(t, &h))
				})
			}
		})
	}
}

// newEnv makes the backend for one scenario.
func newEnv(t *testing.T, h *Harness) *env {
	t.Helper()
	e := h.New(t)
	if e == nil || e.Service == nil || e.Clock == nil || e.WaitingReceives == nil {
		t.Fatal("backendtest: Harness.New must return an Env with Service, Clock and WaitingReceives set")
	}
	return &env{T: t, env: e, ctx: t.Context(), h: h}
}

// env is the scenario's view of its backend: the test, the Env and the
// helpers in helpers.go.
type env struct {
	*testing.T
	env *Env
	ctx context.Context
	h   *Harness
}
