package main

import (
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// history drives a checker on a fake clock, one step at a time.
type history struct {
	t   *testing.T
	ck  *checker
	now time.Duration
	sts map[string]*msgState
	seq int
}

func newHistory(t *testing.T) *history {
	h := &history{t: t, ck: newChecker(2), sts: map[string]*msgState{}}
	h.ck.clock = func() time.Duration { return h.now }
	return h
}

// tick advances the fake clock by a millisecond and returns the new time.
func (h *history) tick() time.Duration {
	h.now += time.Millisecond
	return h.now
}

// sendStd sends and acknowledges n standard bodies, named s0, s1, ...
func (h *history) sendStd(n int) {
	for range n {
		st := h.ck.newStd()
		h.ck.sendIssued([]*msgState{st})
		h.seq++
		h.ck.sendResult(st, &backend.SendResult{MessageID: "id-" + st.body})
		h.sts["s"+strconv.Itoa(len(h.sts))] = st
	}
}

// sendFIFO sends and acknowledges the next body of group g, named gG-K.
func (h *history) sendFIFO(g int) {
	st := h.ck.newFIFO(g)
	h.ck.sendIssued([]*msgState{st})
	h.seq++
	h.ck.sendResult(st, &backend.SendResult{MessageID: "id-" + st.body, SequenceNumber: strconv.Itoa(1000 + h.seq)})
	h.sts["g"+strconv.Itoa(g)+"-"+strconv.Itoa(st.k)] = st
}

// recv records a receive that started now, returned a millisecond later,
// and carried the named bodies with the given receive counts.
func (h *history) recv(names []string, counts []int) {
	start := h.tick()
	returned := h.tick()
	h.recvAt(start, returned, names, counts)
}

func (h *history) recvAt(start, returned time.Duration, names []string, counts []int) {
	msgs := make([]*backend.Message, len(names))
	fifo := false
	for i, n := range names {
		st := h.sts[n]
		body, id := n, ""
		attrs := map[string]string{"ApproximateReceiveCount": strconv.Itoa(counts[i])}
		if st != nil {
			body, id, fifo = st.body, st.messageID, st.fifo
			if st.seq != "" {
				attrs["SequenceNumber"] = st.seq
			}
		}
		msgs[i] = &backend.Message{MessageID: id, Body: body, Attributes: attrs}
	}
	h.ck.received(fifo, start, returned, msgs)
}

// del issues a delete of name and records its outcome: "ack", "reject" or
// "unknown".
func (h *history) del(name, outcome string) {
	st := h.sts[name]
	h.ck.deleteIssued([]*msgState{st})
	returned := h.tick()
	switch outcome {
	case "ack":
		h.ck.deleteResult(st, returned, &backend.EntryResult{})
	case "reject":
		h.ck.deleteResult(st, returned, &backend.EntryResult{Err: backend.NewError(backend.CodeReceiptHandleIsInvalid, "expired")})
	case "unknown":
		h.ck.deleteResult(st, returned, nil)
	}
}

func (h *history) kinds() []string {
	vs, _ := h.ck.snapshot()
	var ks []string
	for _, v := range vs {
		ks = append(ks, v.Kind)
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

func TestChecker(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *history)
		want []string // violation kinds, sorted; nil for none
	}{
		{"standard send, receive, delete", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{1})
			h.del("s0", "ack")
		}, nil},
		{"acknowledged send never received", func(h *history) {
			h.sendStd(2)
			h.recv([]string{"s0"}, []int{1})
		}, []string{kindLostSend}},
		{"unacknowledged send never received", func(h *history) {
			st := h.ck.newStd()
			h.ck.sendIssued([]*msgState{st})
			h.ck.sendResult(st, nil)
		}, nil},
		{"rejected send never received", func(h *history) {
			st := h.ck.newStd()
			h.ck.sendIssued([]*msgState{st})
			h.ck.sendResult(st, &backend.SendResult{Err: backend.NewError(backend.CodeInternalFailure, "x")})
		}, nil},
		{"deleted message returned later", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{1})
			h.del("s0", "ack")
			h.recv([]string{"s0"}, []int{2})
		}, []string{kindResurrected}},
		{"deleted message returned by a receive recorded before the delete", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{1})
			st := h.sts["s0"]
			h.ck.deleteIssued([]*msgState{st})
			acked := h.tick()
			start, returned := h.tick(), h.tick()
			h.recvAt(start, returned, []string{"s0"}, []int{2})
			h.ck.deleteResult(st, acked, &backend.EntryResult{})
		}, []string{kindResurrected}},
		{"receive that started before the delete acknowledgement", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{1})
			start := h.tick()
			h.del("s0", "ack")
			h.recvAt(start, h.tick(), []string{"s0"}, []int{2})
		}, nil},
		{"message returned after an unacknowledged delete", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{1})
			h.del("s0", "unknown")
			h.recv([]string{"s0"}, []int{2})
		}, nil},
		{"receive count repeats after a crash", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{1})
			h.recv([]string{"s0"}, []int{1})
			h.recv([]string{"s0"}, []int{2})
		}, nil},
		{"receive count goes backwards", func(h *history) {
			h.sendStd(1)
			h.recv([]string{"s0"}, []int{3})
			h.recv([]string{"s0"}, []int{2})
		}, []string{kindCountBack}},
		{"receive count goes backwards, recorded out of order", func(h *history) {
			h.sendStd(1)
			s1, r1 := h.tick(), h.tick()
			s2, r2 := h.tick(), h.tick()
			h.recvAt(s2, r2, []string{"s0"}, []int{1})
			h.recvAt(s1, r1, []string{"s0"}, []int{2})
		}, []string{kindCountBack}},
		{"overlapping receives may disagree", func(h *history) {
			h.sendStd(1)
			s1, s2, r1, r2 := h.tick(), h.tick(), h.tick(), h.tick()
			h.recvAt(s1, r1, []string{"s0"}, []int{2})
			h.recvAt(s2, r2, []string{"s0"}, []int{1})
		}, nil},
		{"unknown body", func(h *history) {
			h.recv([]string{"nobody"}, []int{1})
		}, []string{kindUnknownBody}},
		{"one body, two message ids", func(h *history) {
			h.sendStd(1)
			st := h.sts["s0"]
			h.ck.received(false, h.tick(), h.tick(), []*backend.Message{{MessageID: "other", Body: st.body,
				Attributes: map[string]string{"ApproximateReceiveCount": "1"}}})
		}, []string{kindMessageID}},
		{"FIFO in order, deleted one by one", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-0"}, []int{1})
			h.del("g0-0", "ack")
			h.recv([]string{"g0-1"}, []int{1})
			h.del("g0-1", "ack")
		}, nil},
		{"FIFO next message after a delete of unknown outcome", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-0"}, []int{1})
			h.del("g0-0", "unknown")
			h.recv([]string{"g0-1"}, []int{1})
		}, nil},
		{"FIFO two in one response, the first redelivered", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-0", "g0-1"}, []int{1, 1})
			h.del("g0-1", "ack")
			h.recv([]string{"g0-0"}, []int{2})
			h.del("g0-0", "ack")
		}, nil},
		{"FIFO groups are independent", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(1)
			h.recv([]string{"g1-0", "g0-0"}, []int{1, 1})
		}, nil},
		{"FIFO message handed out before an undeleted earlier one", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-0"}, []int{1})
			h.recv([]string{"g0-1"}, []int{1})
		}, []string{kindFIFOOrder}},
		{"FIFO message handed out after the earlier one's delete was rejected", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-0"}, []int{1})
			h.del("g0-0", "reject")
			h.recv([]string{"g0-1"}, []int{1})
		}, []string{kindFIFOOrder}},
		{"FIFO group out of order within a response", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-1", "g0-0"}, []int{1, 1})
		}, []string{kindFIFOOrder}},
		{"FIFO earlier message returned after a later one was handed out alone", func(h *history) {
			h.sendFIFO(0)
			h.sendFIFO(0)
			h.recv([]string{"g0-0"}, []int{1})
			h.del("g0-0", "unknown")
			h.recv([]string{"g0-1"}, []int{1})
			h.recv([]string{"g0-0"}, []int{2})
		}, []string{kindFIFOOrder}},
		{"FIFO sequence numbers must increase within a group", func(h *history) {
			a, b := h.ck.newFIFO(0), h.ck.newFIFO(0)
			h.ck.sendResult(a, &backend.SendResult{MessageID: "a", SequenceNumber: "2000"})
			h.ck.sendResult(b, &backend.SendResult{MessageID: "b", SequenceNumber: "999"})
		}, []string{kindLostSend, kindSequence}},
		{"FIFO sequence number changes", func(h *history) {
			a := h.ck.newFIFO(0)
			h.ck.sendResult(a, &backend.SendResult{MessageID: "a", SequenceNumber: "2000"})
			h.ck.sendResult(a, &backend.SendResult{MessageID: "a", SequenceNumber: "2001"})
		}, []string{kindLostSend, kindSequence}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			tt.run(h)
			h.ck.finalCheck()
			if got := h.kinds(); !slices.Equal(got, tt.want) {
				vs, _ := h.ck.snapshot()
				t.Errorf("violation kinds %v, want %v; violations: %v", got, tt.want, vs)
			}
		})
	}
}

func TestCmpDecimal(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"9", "10", -1},
		{"10", "9", 1},
		{"18446744073709551616", "18446744073709551617", -1},
		{"123", "123", 0},
	}
	for _, tt := range tests {
		if got := cmpDecimal(tt.a, tt.b); got != tt.want {
			t.Errorf("cmpDecimal(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestSelftestJudge checks that the selftest passes only when every
// injected fault, and nothing else, is reported.
func TestSelftestJudge(t *testing.T) {
	want := []violation{{Kind: kindLostSend, Body: "x"}, {Kind: kindCountBack, Body: "y"}}
	tests := []struct {
		name string
		got  []violation
		code int
	}{
		{"all caught", []violation{{Kind: kindCountBack, Body: "y"}, {Kind: kindLostSend, Body: "x"}}, 0},
		{"one missed", []violation{{Kind: kindLostSend, Body: "x"}}, 1},
		{"an extra one", []violation{{Kind: kindLostSend, Body: "x"}, {Kind: kindCountBack, Body: "y"}, {Kind: kindFIFOOrder, Body: "z"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := judgeSelftest(io.Discard, want, tt.got); got != tt.code {
				t.Errorf("judgeSelftest = %d, want %d", got, tt.code)
			}
		})
	}
}
