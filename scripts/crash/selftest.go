package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/postbox-go/postbox/backend"
)

// injectFaults sends a few messages of its own (with the workers stopped,
// so nobody consumes them) and then makes the checker believe four things
// that never happened. A correct engine keeps the messages, so the final
// drain must make the checker report each belief as a violation:
//
//   - a delete of standard message A was acknowledged: A comes back (check 2);
//   - a receive saw standard message B with receive count 99: the drain
//     sees a lower count (check 4);
//   - a send of "std-phantom" was acknowledged: it is never received
//     (check 1);
//   - a receive handed out message 1 of a FIFO group without message 0:
//     the drain returns message 0 afterwards (check 3).
//
// It returns the violations the checker must report.
func injectFaults(ctx context.Context, ck *checker, std, fifo backend.Queue, group int) ([]violation, error) {
	a, b := ck.newStd(), ck.newStd()
	ck.sendIssued([]*msgState{a, b})
	res, err := std.Send(ctx, []backend.SendEntry{{ID: "a", Body: a.body}, {ID: "b", Body: b.body}})
	if err != nil {
		return nil, fmt.Errorf("selftest: send: %w", err)
	}
	for i, st := range []*msgState{a, b} {
		if res[i].Err != nil {
			return nil, fmt.Errorf("selftest: send %s: %v", st.body, res[i].Err)
		}
		ck.sendResult(st, &res[i])
	}
	f0, f1 := ck.newFIFO(group), ck.newFIFO(group)
	for _, st := range []*msgState{f0, f1} {
		ck.sendIssued([]*msgState{st})
		res, err := fifo.Send(ctx, []backend.SendEntry{{ID: "f", Body: st.body,
			MessageGroupID: strconv.Itoa(group), MessageDeduplicationID: st.body}})
		if err != nil {
			return nil, fmt.Errorf("selftest: send: %w", err)
		}
		if res[0].Err != nil {
			return nil, fmt.Errorf("selftest: send %s: %v", st.body, res[0].Err)
		}
		ck.sendResult(st, &res[0])
	}

	ck.injectDeleteAck(a.body)
	ck.injectReceive(b.body, 99)
	ck.injectPhantom("std-phantom")
	ck.injectFloor(group, 1)
	return []violation{
		{Kind: kindResurrected, Body: a.body},
		{Kind: kindCountBack, Body: b.body},
		{Kind: kindLostSend, Body: "std-phantom"},
		{Kind: kindFIFOOrder, Body: f0.body},
	}, nil
}

// judgeSelftest prints whether every injected fault was reported, and
// nothing else, and returns the exit code.
func judgeSelftest(w io.Writer, want, got []violation) int {
	code := 0
	if len(want) == 0 {
		fmt.Fprintln(w, "crash: selftest: no faults were injected")
		return 1
	}
	expected := func(v violation) bool {
		for _, x := range want {
			if x.Kind == v.Kind && x.Body == v.Body {
				return true
			}
		}
		return false
	}
	for _, x := range want {
		found := false
		for _, v := range got {
			if v.Kind == x.Kind && v.Body == x.Body {
				found = true
				fmt.Fprintf(w, "crash: selftest: caught injected %s fault: %s\n", x.Kind, v)
				break
			}
		}
		if !found {
			fmt.Fprintf(w, "crash: selftest: MISSED the injected %s fault on %s\n", x.Kind, x.Body)
			code = 1
		}
	}
	for _, v := range got {
		if !expected(v) {
			fmt.Fprintf(w, "crash: selftest: violation not injected (an engine bug or a false alarm): %s\n", v)
			code = 1
		}
	}
	if code == 0 {
		fmt.Fprintf(w, "crash: selftest: the checker reported all %d injected faults and nothing else\n", len(want))
	}
	return code
}
