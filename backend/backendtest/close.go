package backendtest

import (
	"github.com/postbox-go/postbox/backend"
)

// Close: Service.Close "releases the service's resources and ends pending
// long polls. It is idempotent."
func closeScenarios() []scenario {
	return []scenario{
		{name: "Idempotent", run: testCloseIdempotent},
		{name: "EndsLongPolls", run: testCloseEndsLongPolls},
	}
}

func testCloseIdempotent(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	if err := e.svc().Close(); err != nil {
		e.Fatalf("Close: %v", err)
	}
	if err := e.svc().Close(); err != nil {
		e.Fatalf("second Close: %v", err)
	}
	// The contract does not name the error of a call on a closed service,
	// but there must be one, and no panic.
	if _, err := e.q(url).Send(e.ctx, bodyEntries("after close")); err == nil {
		e.Error("Send on a closed service succeeded")
	}
	if _, err := e.q(url).Receive(e.ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)}); err == nil {
		e.Error("Receive on a closed service succeeded")
	}
	if _, err := e.svc().CreateQueue(e.ctx, "later", nil, nil); err == nil {
		e.Error("CreateQueue on a closed service succeeded")
	}
}

func testCloseEndsLongPolls(e *env) {
	a := e.create("a", nil)
	b := e.create("b", nil)
	chs := []<-chan recvResult{
		e.startReceive(a, wait20),
		e.startReceive(a, wait20),
		e.startReceive(b, backend.ReceiveRequest{WaitTimeSeconds: new(backend.MaxWaitTimeSeconds)}),
	}
	e.waitParked(len(chs))
	if err := e.svc().Close(); err != nil {
		e.Fatalf("Close: %v", err)
	}
	// No clock advance: Close alone ends the waits. The contract does not
	// say with which error; a closed service returns no messages.
	for _, ch := range chs {
		r := e.await(ch)
		if len(r.msgs) != 0 {
			e.Errorf("a long poll ended by Close returned %d messages", len(r.msgs))
		}
		e.Logf("long poll ended by Close returned error %v", r.err)
	}
	e.waitParked(0)
}
