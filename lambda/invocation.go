package lambda

import (
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postbox-go/postbox/consumer"
)

// invocation is the state of one HandleEvent: its messages and which of
// them are done with. The handlers' goroutines write it; HandleEvent reads
// it once, to answer, after which it no longer changes.
type invocation struct {
	msgs []*consumer.Message

	mu       sync.Mutex
	done     []bool
	answered bool
}

func newInvocation(msgs []*consumer.Message) *invocation {
	return &invocation{msgs: msgs, done: make([]bool, len(msgs))}
}

// succeed marks message i done with; false if the invocation has answered
// already (the message was reported as failed).
func (inv *invocation) succeed(i int) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.answered {
		return false
	}
	inv.done[i] = true
	return true
}

// answer is the partial batch response: every message not done with, and
// on FIFO queues every message after the first such message of its group.
// It fixes the outcome: what is settled later changes nothing.
func (inv *invocation) answer() events.SQSEventResponse {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.answered = true
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var failedGroups map[string]bool
	for i, msg := range inv.msgs {
		key, fifo := groupKey(msg)
		ok := inv.done[i] && !(fifo && failedGroups[key])
		if ok {
			continue
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageID})
		if fifo {
			if failedGroups == nil {
				failedGroups = make(map[string]bool)
			}
			failedGroups[key] = true
		}
	}
	return resp
}

// groupKey is the key of msg's FIFO group, and whether msg is from a FIFO
// queue (whose URL ends in ".fifo").
func groupKey(msg *consumer.Message) (string, bool) {
	if !strings.HasSuffix(msg.QueueURL, ".fifo") {
		return "", false
	}
	return msg.QueueURL + "\x00" + msg.GroupID, true
}
