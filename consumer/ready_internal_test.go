package consumer

import (
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
)

func readyJobs(n int) []*job {
	jobs := make([]*job, n)
	for i := range jobs {
		j := &job{}
		j.msg = &j.m
		j.m.Body = strconv.Itoa(i)
		j.self[0] = j
		jobs[i] = j
	}
	return jobs
}

func TestReadyQueueOrderAndWakeUps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReadyQueue(4)
		stop := make(chan struct{})
		var mu sync.Mutex
		var got []string
		var wg sync.WaitGroup
		taken := make(chan struct{})
		release := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					unit, _, ok := r.take(stop)
					if !ok {
						return
					}
					mu.Lock()
					got = append(got, unit[0].msg.Body)
					mu.Unlock()
					taken <- struct{}{}
					<-release // hold the worker, as a slow handler does
				}
			})
		}
		synctest.Wait()
		if r.idle != 4 {
			t.Fatalf("%d idle workers, want 4", r.idle)
		}
		// Three units: three workers wake, one after the other, and
		// each takes one; the fourth stays parked.
		r.putJobs(readyJobs(3))
		for range 3 {
			<-taken
		}
		synctest.Wait()
		if r.idle != 1 || r.len() != 0 {
			t.Errorf("idle %d, waiting %d; want 1 and 0", r.idle, r.len())
		}
		mu.Lock()
		if len(got) != 3 {
			t.Errorf("taken %v", got)
		}
		mu.Unlock()
		// Busy workers take queued work as they finish, in order.
		r.putJobs(readyJobs(6)[3:])
		for range 3 {
			release <- struct{}{}
		}
		for range 3 {
			<-taken
		}
		close(stop)
		close(release)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]bool{}
		for _, b := range got {
			seen[b] = true
		}
		if len(got) != 6 || len(seen) != 6 {
			t.Errorf("taken %v, want 0-5 once each", got)
		}
	})
}

func TestReadyQueueFIFOAndDrain(t *testing.T) {
	r := newReadyQueue(1)
	jobs := readyJobs(100)
	for i := 0; i < 100; i += 10 {
		r.putJobs(jobs[i : i+10])
		// take some in between, so that the queue compacts.
		for range 7 {
			if _, _, ok := r.take(nil); !ok {
				t.Fatal("take failed")
			}
		}
	}
	if r.len() != 30 {
		t.Fatalf("len %d, want 30", r.len())
	}
	// 7 of each 10 were taken after each put: the queue must still hand
	// out the rest in the order they were put.
	prev := -1
	n := 0
	for {
		u, ok := r.tryTake()
		if !ok {
			break
		}
		i, _ := strconv.Atoi(u[0].msg.Body)
		if i <= prev {
			t.Errorf("%d after %d", i, prev)
		}
		prev = i
		n++
	}
	if n != 30 || r.len() != 0 {
		t.Errorf("drained %d, %d left", n, r.len())
	}
	stop := make(chan struct{})
	close(stop)
	if _, _, ok := r.take(stop); ok {
		t.Error("take on an empty, stopped queue returned a unit")
	}
}
