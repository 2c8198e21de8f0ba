package consumer

import (
	"fmt"
	"testing"
)

func fifoJob(group, body string) *job {
	j := &job{}
	j.msg = &j.m
	j.m.GroupID, j.m.Body = group, body
	j.self[0] = j
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
	start, ok := g.submit([]*job{a1, a2, b1, a3, b2})
	if !ok || bodies(start) != "a1b1" {
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
	if start, _ := g.submit([]*job{a4}); bodies(start) != "a4" {
		t.Fatalf("after the failure: start %s", bodies(start))
	}
	// drain returns what waits and refuses the rest.
	if got := bodies(g.drain()); got != "b2" {
		t.Fatalf("drained %s", got)
	}
	if _, ok := g.submit([]*job{fifoJob("c", "c1")}); ok {
		t.Fatal("submit after drain")
	}
	if next, _ := g.done(b1, true); next != nil {
		t.Fatal(fmt.Sprint("next after drain: ", next.msg.Body))
	}
}
