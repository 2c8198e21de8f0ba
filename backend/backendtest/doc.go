// Package backendtest is the conformance suite of the backend contract: one
// set of scenarios that every backend (the native engine in memory, the
// durable engine, the AWS adapter against postbox serve over the JSON and
// the query protocols) must pass, so that they all behave as SQS does.
//
// The suite speaks only backend.Service and backend.Queue, and treats queue
// URLs as opaque strings returned by the service. It checks every behaviour
// of the contract and every error code, and that bad input changes nothing:
// a rejected batch entry does not affect its neighbours, and a rejected
// request leaves the queue exactly as it was (its attributes, its counts,
// and its messages, still receivable with the same bodies). Where the
// contract leaves a question to SQS, the scenario cites the SQS API
// Reference (or a recorded answer of the real service) in a comment.
//
// # Plugging a backend in
//
// A backend's package adds one test file that describes the backend in a
// Harness and calls Run:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, backendtest.Harness{
//			New: func(t *testing.T) *backendtest.Env {
//				clk := clockwork.NewFakeClock()
//				eng, err := native.New(native.Config{Clock: clk})
//				if err != nil {
//					t.Fatal(err)
//				}
//				t.Cleanup(func() { eng.Close() })
//				return &backendtest.Env{
//					Service:         eng,
//					Clock:           clk,
//					WaitingReceives: eng.WaitingReceives,
//				}
//			},
//			FIFO: true, DeadLetter: true, MoveTasks: true,
//		})
//	}
//
// New is called once per scenario and must return a fresh, empty backend
// running on the fake clock it returns. WaitingReceives counts the receives
// parked in a long poll (once their wait's deadline is armed on the clock),
// which lets scenarios wait for a long poll to park without sleeping. A
// durable backend also sets Env.Reopen, and scenarios then close and reopen
// it mid-way to check that state survives. A backend reached over the
// network (the AWS adapter against an in-process server) runs the server on
// the same fake clock and reports the engine's WaitingReceives.
//
// Capability flags (FIFO, DeadLetter, MoveTasks, FairQueues) say what the
// backend supports; scenarios that need a missing capability are skipped.
//
// # Layout
//
// Scenarios are table rows grouped by file: admin.go (queue
// administration), messages.go (send, receive, delete, validation, delays,
// retention), visibility.go (visibility timeouts and receipt handles),
// longpoll.go, attributes.go (system and message attribute selection),
// concurrency.go and close.go. Each row runs as the subtest
// "<Group>/<Scenario>" on a fresh Env, in parallel with the others. A new
// area of the contract (FIFO, dead-letter queues, fair queues) is a new file
// with its own table, listed in groups in harness.go, whose rows name the
// capability they need.
//
// # Time
//
// No scenario sleeps. Time moves only when a scenario advances the fake
// clock; waits on other goroutines end on channels, with a real-time
// failsafe that turns a hang into a failure. Every scenario takes well under
// a second.
//
// # Errors
//
// Request-level failures and batch entry failures (a result's Err) are
// asserted with errors.Is against the backend.Err* sentinels and with
// errors.As for the *backend.Error; both must carry a message. A request
// that fails returns nil results.
package backendtest
