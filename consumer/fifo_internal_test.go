package consumer

import "testing"

func fifoJob(group, body string) *job {
	j := &job{}
	j.msg.GroupID, j.msg.Body = group, body
	return j
}

func bodies(jobs []*job) string {
	s := ""
	for _, j := range jobs {
		s += j.msg.Body
	}
	return s
}

func TestGroupsSchedule(t *testing.T) {
	g := newGroups()
	a1, a2, a3, b1, b2 := fifoJob("a", "a1"), fifoJob("a", "a2"), fifoJob("a", "a3"), fifoJob("b", "b1"), fifoJob("b", "b2")
	if start := g.submit([]*job{a1, a2, b1, a3, b2}); bodies(start) != "a1b1" {
		t.Fatalf("start %s", bodies(start))
	}
	// a1 succeeds: a2 is next.
	if next, rel := g.done(a1, true); next != a2 || len(rel) != 0 {
		t.Fatalf("next %v rel %s", next, bodies(rel))
	}
	// a2 fails: a3 is released, and the group is free again.
	if next, rel := g.done(a2, false); next != nil || bodies(rel) != "a3" {
		t.Fatalf("next %v rel %s", next, bodies(rel))
	}
	a4 := fifoJob("a", "a4")
	if start := g.submit([]*job{a4}); bodies(start) != "a4" {
		t.Fatalf("after the failure: start %s", bodies(start))
	}
	// b1 given back (a shutdown): what waits behind it is released too.
	if next, rel := g.done(b1, false); next != nil || bodies(rel) != "b2" {
		t.Fatalf("next %v rel %s", next, bodies(rel))
	}
	// drain takes what waits; the running message then has no next.
	a5 := fifoJob("a", "a5")
	g.submit([]*job{a5})
	if got := bodies(g.drain()); got != "a5" {
		t.Fatalf("drained %s", got)
	}
	if next, rel := g.done(a4, true); next != nil || len(rel) != 0 {
		t.Fatalf("after drain: next %v rel %s", next, bodies(rel))
	}
}
