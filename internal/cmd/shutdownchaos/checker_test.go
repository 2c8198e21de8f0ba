package main

import (
	"slices"
	"strings"
	"testing"
)

func TestBodies(t *testing.T) {
	if k, seq, ok := parseFIFOBody(fifoBody(2, 7, 41)); !ok || k != (groupKey{2, 7}) || seq != 41 {
		t.Errorf("parseFIFOBody(fifoBody(2, 7, 41)) = %v, %d, %v", k, seq, ok)
	}
	for _, b := range []string{"std-0-1", "fifo-1-2", "fifo-1-2-3-4", "fifo-a-1-2", "fifo--1-1-2", "x"} {
		if _, _, ok := parseFIFOBody(b); ok {
			t.Errorf("parseFIFOBody(%q) accepted it", b)
		}
	}
	for body, want := range map[string]string{
		stdBody(3, 12):     "shutdown-std-3",
		fifoBody(3, 1, 12): "shutdown-fifo-3.fifo",
		"std-x-1":          "",
		"other":            "",
	} {
		if got := queueOf(body); got != want {
			t.Errorf("queueOf(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestFIFOOrder(t *testing.T) {
	g0, g1 := groupKey{0, 0}, groupKey{0, 1}
	steps := []struct {
		k      groupKey
		seq    int
		ok     bool
		before int
	}{
		{g0, 0, true, -1},
		{g0, 1, true, 0},
		{g0, 1, true, 1}, // a redelivery
		{g0, 0, true, 1}, // a redelivery of an older one
		{g1, 0, true, -1},
		{g0, 2, true, 1},
		{g0, 4, false, 2}, // 3 skipped
		{g0, 3, true, 4},
		{g0, 5, true, 4},
		{g1, 2, false, 0}, // 1 skipped
		{groupKey{1, 0}, 1, false, -1},
	}
	o := newFIFOOrder()
	for i, s := range steps {
		ok, before := o.observe(s.k, s.seq)
		if ok != s.ok || before != s.before {
			t.Errorf("step %d: observe(%v, %d) = %v, %d; want %v, %d", i, s.k, s.seq, ok, before, s.ok, s.before)
		}
	}
}

func TestInvisibleViolations(t *testing.T) {
	names := []string{"s", "f.fifo"}
	if v := invisibleViolations(names, []int{0, 0}); v != nil {
		t.Errorf("nothing invisible: %v", v)
	}
	v := invisibleViolations(names, []int{0, 3})
	if len(v) != 1 || !strings.Contains(v[0], "f.fifo") || !strings.Contains(v[0], "NotVisible=3") {
		t.Errorf("3 invisible in the FIFO queue: %v", v)
	}
	if v := invisibleViolations(names, []int{1, 2}); len(v) != 2 {
		t.Errorf("both queues: %v", v)
	}
}

func TestLostBodies(t *testing.T) {
	acked := map[string]bool{"a": true, "b": true, "c": false, "d": true}
	handled := map[string]int{"a": 2, "c": 1}
	if got, want := lostBodies(acked, handled), []string{"b", "d"}; !slices.Equal(got, want) {
		t.Errorf("lostBodies = %v, want %v (an unacknowledged send may be lost)", got, want)
	}
}

func TestTally(t *testing.T) {
	vs := []violation{{Cycle: 2}, {Cycle: 2}, {Cycle: 4}}
	for _, c := range []struct {
		name                   string
		cycles, completed      int
		vs                     []violation
		stopped                bool
		wantPassed, wantFailed int
	}{
		{"clean", 5, 5, nil, false, 5, 0},
		{"violations", 5, 5, vs, false, 3, 2},
		{"final drain counts against the last cycle", 5, 5, []violation{{Cycle: 0}}, false, 4, 1},
		{"stopped early", 5, 3, nil, true, 3, 2},
		{"stopped after the last cycle", 5, 5, nil, true, 4, 1},
	} {
		p, f := tally(c.cycles, c.completed, c.vs, c.stopped)
		if p != c.wantPassed || f != c.wantFailed {
			t.Errorf("%s: tally = %d passed, %d failed; want %d, %d", c.name, p, f, c.wantPassed, c.wantFailed)
		}
	}
}

func TestChecker(t *testing.T) {
	ck := newChecker()
	ck.setCycle(1)
	std := []string{stdBody(0, 0), stdBody(0, 1)}
	fifo := []string{fifoBody(0, 0, 0), fifoBody(0, 0, 1), fifoBody(0, 0, 2)}
	ck.issued(std)
	ck.issued(fifo)
	ck.handle(std[0]) // handled before its acknowledgement arrived: known
	ck.sent("shutdown-std-0", std)
	ck.sent("shutdown-fifo-0.fifo", fifo)
	if n := ck.backlog("shutdown-std-0"); n != 1 {
		t.Errorf("standard backlog %d, want 1", n)
	}
	ck.handle(fifo[0])
	ck.handle(fifo[0])
	ck.setCycle(2)
	ck.handle(fifo[2]) // skips 1
	ck.handle("std-9-9")
	if n := ck.backlog("shutdown-fifo-0.fifo"); n != 1 {
		t.Errorf("FIFO backlog %d, want 1 (a redelivery is not progress)", n)
	}
	ck.setCycle(0)
	ck.finalCheck()

	sn := ck.snapshot()
	if sn.sent != 5 || sn.handled != 5 || sn.dup != 1 {
		t.Errorf("snapshot: sent %d handled %d dup %d; want 5, 5, 1", sn.sent, sn.handled, sn.dup)
	}
	var got []string
	for _, v := range sn.vs {
		got = append(got, v.String())
	}
	want := []string{
		"cycle 2: fifo-order: fifo-0-0-2: handled when the highest of its group handled before was 0",
		"cycle 2: unknown-body: std-9-9: handled, never sent",
		"final drain: lost: fifo-0-0-1: send acknowledged, never handled",
		"final drain: lost: std-0-1: send acknowledged, never handled",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
