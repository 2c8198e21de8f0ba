package consumer

import (
	"fmt"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// heartbeatLoop extends the leases of the messages held (received and not
// ended: waiting for a worker, or running) until stopBeat is closed.
func (s *sub) heartbeatLoop() {
	t := s.srv.clock.NewTicker(s.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.stopBeat:
			return
		case <-t.Chan():
			s.beat()
		}
	}
}

// extension is a lease the heartbeat extends by secs seconds.
type extension struct {
	j    *job
	secs int
}

// beat extends, in batches of 10, the leases that have run down by half a
// heartbeat interval or more, and cancels the handlers whose lease ran out.
func (s *sub) beat() {
	now := s.srv.clock.Now()
	done := make(chan struct{})
	var due []extension
	var lapsed []*Error
	s.mu.Lock()
	for _, j := range s.byID {
		if j.lost != nil || j.extending != nil {
			continue
		}
		remaining := j.expiresAt.Sub(now)
		if remaining <= 0 {
			if cause := expired(j); s.loseLocked(j, cause) {
				lapsed = append(lapsed, &Error{Op: OpHeartbeat, QueueURL: s.url, MessageID: j.msg.MessageID, Err: cause})
			}
			continue
		}
		if remaining > s.vis-s.heartbeat/2 {
			continue
		}
		limit := j.msg.ReceivedAt.Add(s.MaxExtension)
		if s.MaxExtension >= maxLease {
			limit = limit.Add(-leaseMargin)
		}
		secs := min(s.visSecs, int(limit.Sub(now)/time.Second))
		if time.Duration(secs)*time.Second <= remaining {
			continue // at the extension limit: let it run out
		}
		j.extending = done
		due = append(due, extension{j, secs})
	}
	s.mu.Unlock()
	for _, e := range lapsed {
		s.srv.report(e)
	}
	// A visibility change of a job that ends meanwhile waits for done
	// (see end), so that no extension lands after it.
	defer func() {
		s.mu.Lock()
		for _, e := range due {
			e.j.extending = nil
		}
		s.mu.Unlock()
		close(done)
	}()
	ctx := withPurpose(s.ioCtx, PurposeHeartbeat)
	for start := 0; start < len(due); start += backend.MaxBatchEntries {
		batch := s.stillHeld(due[start:min(len(due), start+backend.MaxBatchEntries)])
		if len(batch) == 0 {
			continue
		}
		entries := make([]backend.VisibilityEntry, len(batch))
		for i, e := range batch {
			entries[i] = backend.VisibilityEntry{ID: entryIDs[i], ReceiptHandle: e.j.msg.ReceiptHandle, VisibilityTimeout: e.secs}
		}
		res, err := s.q.ChangeVisibility(ctx, entries)
		if err == nil && len(res) != len(entries) {
			err = backend.NewError(backend.CodeInternalFailure, "backend returned %d results for %d entries", len(res), len(entries))
		}
		if err != nil {
			s.report(OpHeartbeat, "", err) // tried again at the next beat
			continue
		}
		var reports []*Error
		s.mu.Lock()
		for i, r := range res {
			j := batch[i].j
			if s.byID[j.msg.MessageID] != j {
				continue // ended meanwhile
			}
			switch {
			case r.Err == nil:
				j.expiresAt = now.Add(time.Duration(batch[i].secs) * time.Second)
				s.srv.stats.extended.Add(1)
			case leaseLost(r.Err):
				cause := fmt.Errorf("%w: extending visibility of message %s: %w", ErrLeaseLost, j.msg.MessageID, r.Err)
				if s.loseLocked(j, cause) {
					reports = append(reports, &Error{Op: OpHeartbeat, QueueURL: s.url, MessageID: j.msg.MessageID, Err: cause})
				}
			default:
				reports = append(reports, &Error{Op: OpHeartbeat, QueueURL: s.url, MessageID: j.msg.MessageID, Err: r.Err})
			}
		}
		s.mu.Unlock()
		for _, e := range reports {
			s.srv.report(e)
		}
	}
}

// stillHeld returns the extensions of batch whose jobs are still held with
// their lease: a batch is sent after the ones before it have answered, by
// when a job may have ended, or lost its lease to a second delivery (an
// extension with its receipt handle would extend that delivery's).
func (s *sub) stillHeld(batch []extension) []extension {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := batch[:0:0]
	for _, e := range batch {
		if s.byID[e.j.msg.MessageID] == e.j && e.j.lost == nil {
			out = append(out, e)
		}
	}
	return out
}
