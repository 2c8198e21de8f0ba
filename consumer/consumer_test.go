package consumer_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/consumer"
)

func TestProcessesEveryMessageOnce(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		n, conc, prefetch, mm int
	}{
		{"defaults", 100, 0, 0, 0},
		{"one worker", 30, 1, 0, 1},
		{"many workers with prefetch", 500, 50, 20, 10},
		{"small receives", 50, 3, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				fq := &faultQueue{Queue: q}
				sendN(t, q, tc.n, nil)
				rec := &recorder{}
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: fq, Handler: rec, Concurrency: tc.conc, Prefetch: tc.prefetch, MaxMessages: tc.mm,
				}}})
				for rec.total() < tc.n {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(consumer.DefaultAckMaxDelay)
				synctest.Wait()
				if err := r.stop(t, context.Background()); err != nil {
					t.Fatal(err)
				}
				for i := range tc.n {
					if c := rec.count(strconv.Itoa(i)); c != 1 {
						t.Errorf("message %d handled %d times", i, c)
					}
				}
				if v, f, d := counts(t, eng, q); v+f+d != 0 {
					t.Errorf("queue left with %d visible, %d in flight, %d delayed", v, f, d)
				}
				st := r.srv.Stats()
				if st.Deleted != int64(tc.n) || st.Succeeded != int64(tc.n) || st.InFlight != 0 {
					t.Errorf("stats %+v", st)
				}
				for _, n := range fq.deleteEntries {
					if n > 10 {
						t.Errorf("a delete call had %d entries", n)
					}
				}
				if calls := fq.deletes.Load(); calls > int64(tc.n/2+5) {
					t.Errorf("%d delete calls for %d messages: not batched", calls, tc.n)
				}
			})
		})
	}
}
