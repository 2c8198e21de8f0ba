package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
)

func newFIFO(t testing.TB, eng *native.Engine) backend.Queue {
	t.Helper()
	return newQueue(t, eng, "jobs.fifo", backend.Attributes{"FifoQueue": "true"})
}

// groupOf puts message i in one of four groups.
func groupOf(i int) string { return "g" + strconv.Itoa(i%4) }

// fifoChecker is a handler that checks a group never runs two messages at
// once and records the order of each group.
type fifoChecker struct {
	mu       sync.Mutex
	running  map[string]bool
	now, max int
	order    map[string][]int // every attempt, by group
	done     map[string][]int // successful attempts, by group
	overlap  bool
	fail     func(msg *consumer.Message) bool
}

func (c *fifoChecker) HandleMessage(ctx context.Context, msg *consumer.Message) error {
	n, _ := strconv.Atoi(msg.Body)
	c.mu.Lock()
	if c.running == nil {
		c.running, c.order, c.done = map[string]bool{}, map[string][]int{}, map[string][]int{}
	}
	if c.running[msg.GroupID] {
		c.overlap = true
	}
	c.running[msg.GroupID] = true
	c.now++
	c.max = max(c.max, c.now)
	c.order[msg.GroupID] = append(c.order[msg.GroupID], n)
	c.mu.Unlock()

	time.Sleep(time.Duration(n%7) * 100 * time.Millisecond) // fake time: interleave the groups
	failed := c.fail != nil && c.fail(msg)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.running[msg.GroupID] = false
	c.now--
	if failed {
		return errors.New("failed")
	}
	c.done[msg.GroupID] = append(c.done[msg.GroupID], n)
	return nil
}

func (c *fifoChecker) successes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, d := range c.done {
		n += len(d)
	}
	return n
}

// inOrder checks that each group's successes are its messages in send order.
func (c *fifoChecker) inOrder(t *testing.T, n int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overlap {
		t.Error("two messages of one group ran at once")
	}
	for g := range 4 {
		id := "g" + strconv.Itoa(g)
		var want []int
		for i := g; i < n; i += 4 {
			want = append(want, i)
		}
		if fmt.Sprint(c.done[id]) != fmt.Sprint(want) {
			t.Errorf("group %s succeeded in order %v, want %v (attempts %v)", id, c.done[id], want, c.order[id])
		}
	}
}

func TestFIFOGroupsInOrderAndInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newFIFO(t, eng)
		sendN(t, q, 100, groupOf)
		c := &fifoChecker{}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: c, Concurrency: 8}}})
		advanceUntil(t, func() bool { return c.successes() == 100 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		c.inOrder(t, 100)
		if c.max < 2 {
			t.Errorf("at most %d handlers ran at once: groups did not run in parallel", c.max)
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight", v, f)
		}
	})
}

func TestFIFOFailureReleasesTheRestOfTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newFIFO(t, eng)
		sendN(t, q, 40, groupOf)
		c := &fifoChecker{fail: func(msg *consumer.Message) bool {
			// Message 9 (group g1) fails twice, 14 (g2) once.
			return (msg.Body == "9" && msg.ReceiveCount <= 2) || (msg.Body == "14" && msg.ReceiveCount == 1)
		}}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: q, Handler: c, Concurrency: 4, Backoff: consumer.ConstantBackoff(3 * time.Second),
		}}})
		advanceUntil(t, func() bool { return c.successes() == 40 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		c.inOrder(t, 40)
		// After a failure the group starts again from the failed message.
		for g, first := range map[string]int{"g1": 9, "g2": 14} {
			order := c.order[g]
			for i, n := range order {
				if n == first && i+1 < len(order) && order[i+1] < first {
					t.Errorf("group %s went back to %d after %d: %v", g, order[i+1], n, order)
				}
			}
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight", v, f)
		}
	})
}

func TestFIFOReceiveRetryReusesAttemptID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newFIFO(t, eng)
		sendN(t, q, 8, groupOf)
		fq := &faultQueue{Queue: q}
		var calls atomic.Int32
		var lost []*backend.Message // written by the first call alone
		fq.receiveHook = func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
			first := calls.Add(1) == 1
			msgs, err := q.Receive(ctx, req)
			if first {
				// The messages were taken, but the response is lost.
				lost = msgs
				return nil, errors.New("connection reset by peer")
			}
			return msgs, err
		}
		c := &fifoChecker{}
		var errs errorLog
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: c, Concurrency: 10,
		}}})
		advanceUntil(t, func() bool { return c.successes() == 8 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		c.inOrder(t, 8)
		fq.mu.Lock()
		ids := fq.attemptIDs
		fq.mu.Unlock()
		if len(ids) < 3 || ids[0] == "" || ids[1] != ids[0] || ids[2] == ids[1] {
			t.Errorf("attempt ids %q: want the failed receive's id reused once, then a new one", ids)
		}
		if len(lost) == 0 {
			t.Fatal("the first receive took nothing")
		}
		// The retry returned the same messages at once: nobody waited out
		// a visibility timeout.
		if len(errs.ops(consumer.OpReceive)) != 1 {
			t.Errorf("errors %v", errs.errs)
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight", v, f)
		}
	})
}

func TestFIFOBatchHandlerReleasesAfterAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newFIFO(t, eng)
		sendN(t, q, 10, func(int) string { return "one" })
		var mu sync.Mutex
		var seen []string
		bh := consumer.BatchHandlerFunc(func(ctx context.Context, msgs []*consumer.Message) []error {
			mu.Lock()
			defer mu.Unlock()
			res := make([]error, len(msgs))
			for i, m := range msgs {
				seen = append(seen, m.Body)
				if m.Body == "3" && m.ReceiveCount == 1 {
					res[i] = errors.New("failed")
				}
				// Later messages "succeed": the server must not delete them.
			}
			return res
		})
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: q, BatchHandler: bh, Concurrency: 1, Backoff: consumer.ConstantBackoff(2 * time.Second),
		}}})
		advanceUntil(t, func() bool {
			v, f, _ := counts(t, eng, q)
			return v+f == 0
		})
		r.stop(t, context.Background())
		mu.Lock()
		defer mu.Unlock()
		want := "[0 1 2 3 4 5 6 7 8 9 3 4 5 6 7 8 9]"
		if fmt.Sprint(seen) != want {
			t.Errorf("handled %v, want %v", seen, want)
		}
	})
}
