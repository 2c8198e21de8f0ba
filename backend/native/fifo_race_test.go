package native

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

// TestFIFOConcurrentConsumers runs many consumers on a FIFO queue with many
// groups, under a randomised schedule (random batch sizes, random releases,
// random yields), over many iterations. No two messages of a group are ever
// in flight at once, each group is handled strictly in order, duplicates
// sent are never delivered, and nothing is lost.
func TestFIFOConcurrentConsumers(t *testing.T) {
	const (
		groups     = 12
		perGroup   = 40
		consumers  = 6
		iterations = 15
	)
	for it := 0; it < iterations; it++ {
		seed := uint64(it + 1)
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			e, _ := newTestEngine(t)
			ctx := context.Background()
			q := mustQueue(t, e, "race.fifo", backend.Attributes{"FifoQueue": "true"})
			rng := rand.New(rand.NewPCG(seed, 0))
			// Send every group's messages in order, interleaved across
			// groups, with a duplicate of an earlier message now and then.
			next := make([]int, groups)
			for sent := 0; sent < groups*perGroup; {
				var batch []backend.SendEntry
				for len(batch) < 10 && sent < groups*perGroup {
					g := rng.IntN(groups)
					if next[g] == perGroup {
						continue
					}
					n := next[g]
					if n > 0 && rng.IntN(5) == 0 {
						d := rng.IntN(n) // resend an earlier one: deduplicated
						batch = append(batch, backend.SendEntry{ID: fmt.Sprint(len(batch)), Body: fmt.Sprintf("%d/%d", g, d),
							MessageGroupID: strconv.Itoa(g), MessageDeduplicationID: fmt.Sprintf("%d-%d", g, d)})
						continue
					}
					batch = append(batch, backend.SendEntry{ID: fmt.Sprint(len(batch)), Body: fmt.Sprintf("%d/%d", g, n),
						MessageGroupID: strconv.Itoa(g), MessageDeduplicationID: fmt.Sprintf("%d-%d", g, n)})
					next[g]++
					sent++
				}
				if _, err := q.Send(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}

			var mu sync.Mutex
			inflight := make([]bool, groups)
			done := make([]int, groups) // messages 0..done-1 of each group are deleted
			total := 0
			var failed string
			fail := func(format string, args ...any) {
				if failed == "" {
					failed = fmt.Sprintf(format, args...)
				}
			}
			var wg sync.WaitGroup
			for c := 0; c < consumers; c++ {
				crng := rand.New(rand.NewPCG(seed, uint64(c+1)))
				wg.Go(func() {
					for {
						mu.Lock()
						finished := total == groups*perGroup || failed != ""
						mu.Unlock()
						if finished {
							return
						}
						got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1 + crng.IntN(10), WaitTimeSeconds: new(0)})
						if err != nil {
							mu.Lock()
							fail("receive: %v", err)
							mu.Unlock()
							return
						}
						if len(got) == 0 {
							runtime.Gosched()
							continue
						}
						// Check and mark: each message must be the next of its
						// group, and its group must have nothing else in flight
						// (messages of one group in this batch come in order).
						mu.Lock()
						seen := map[int]int{}
						for _, m := range got {
							g, n := parseBody(m.Body)
							if k, ok := seen[g]; ok {
								if n != k+1 {
									fail("group %d: %d after %d in one receive", g, n, k)
								}
							} else {
								if inflight[g] {
									fail("group %d: two receives in flight at once", g)
								}
								if n != done[g] {
									fail("group %d: got %d, next undeleted is %d", g, n, done[g])
								}
								inflight[g] = true
							}
							seen[g] = n
						}
						mu.Unlock()
						if crng.IntN(3) == 0 {
							runtime.Gosched()
						}
						// Delete a prefix of each group's run and release the
						// rest (a randomised partial failure).
						var del []backend.DeleteEntry
						var rel []backend.VisibilityEntry
						keep := map[int]bool{}
						mu.Lock()
						for i, m := range got {
							g, n := parseBody(m.Body)
							if !keep[g] && crng.IntN(4) != 0 && n == done[g] {
								done[g]++ // recorded before the delete: the group unlocks only after it
								total++
								del = append(del, backend.DeleteEntry{ID: fmt.Sprint(i), ReceiptHandle: m.ReceiptHandle})
								continue
							}
							keep[g] = true
							rel = append(rel, backend.VisibilityEntry{ID: fmt.Sprint(i), ReceiptHandle: m.ReceiptHandle})
						}
						for g := range seen {
							inflight[g] = false // cleared before the calls that unlock it
						}
						mu.Unlock()
						if len(del) > 0 {
							res, err := q.Delete(ctx, del)
							check(&mu, fail, res, err)
						}
						if len(rel) > 0 {
							res, err := q.ChangeVisibility(ctx, rel)
							check(&mu, fail, res, err)
						}
					}
				})
			}
			wg.Wait()
			if failed != "" {
				t.Fatal(failed)
			}
			for g := range done {
				if done[g] != perGroup {
					t.Fatalf("group %d: %d of %d handled", g, done[g], perGroup)
				}
			}
			if got, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)}); len(got) != 0 {
				t.Fatalf("left over: %v", bodies(got))
			}
		})
	}
}

func check(mu *sync.Mutex, fail func(string, ...any), res []backend.EntryResult, err error) {
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		fail("batch: %v", err)
		return
	}
	for _, r := range res {
		if r.Err != nil {
			fail("entry: %v", r.Err)
		}
	}
}

func parseBody(b string) (g, n int) {
	gs, ns, _ := strings.Cut(b, "/")
	g, _ = strconv.Atoi(gs)
	n, _ = strconv.Atoi(ns)
	return g, n
}
