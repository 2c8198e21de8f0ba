package native

import (
	"math/rand/v2"
	"testing"
)

// TestMsgIndexMatchesAMap drives the paged index and a map with the same
// random inserts and deletes and checks they always agree, and that empty
// pages are freed.
func TestMsgIndexMatchesAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x msgIndex
	ref := map[uint64]*message{}
	next := uint64(1)
	for i := 0; i < 200_000; i++ {
		switch op := rng.IntN(10); {
		case op < 5:
			m := &message{seq: next}
			next++
			x.put(m)
			ref[m.seq] = m
		case op < 9 && next > 1:
			seq := uint64(1 + rng.IntN(int(next-1)))
			x.del(seq)
			delete(ref, seq)
		default:
			seq := uint64(rng.IntN(int(next) + 2000))
			if x.get(seq) != ref[seq] {
				t.Fatalf("get(%d) = %v, want %v", seq, x.get(seq), ref[seq])
			}
		}
		if x.len() != len(ref) {
			t.Fatalf("len %d, want %d", x.len(), len(ref))
		}
	}
	n := 0
	x.each(func(m *message) {
		n++
		if ref[m.seq] != m {
			t.Fatalf("each found %d, not in the map", m.seq)
		}
	})
	if n != len(ref) {
		t.Fatalf("each saw %d, want %d", n, len(ref))
	}
	for seq := range ref {
		x.del(seq)
	}
	if x.len() != 0 || len(x.pages) != 0 {
		t.Fatalf("after deleting everything: len %d, %d pages left", x.len(), len(x.pages))
	}
}
