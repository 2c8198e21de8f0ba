package awssqs24

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSetMessage checks the hand-written helper behind keepErrorMessages:
// it fills in the message that v1.24.5 drops from modeled errors, keeps one
// that is there, and leaves anything else alone; the error then maps to its
// code with the message.
func TestSetMessage(t *testing.T) {
	kept := "kept"
	tests := []struct {
		name string
		err  error
		want string // ErrorMessage() afterwards, for the modeled errors
	}{
		{"modeled, no message", &types.QueueDoesNotExist{}, "from the body"},
		{"modeled, message", &types.QueueDoesNotExist{Message: &kept}, "kept"},
		{"not a modeled error", errors.New("plain"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setMessage(tt.err, "from the body")
			e, ok := tt.err.(*types.QueueDoesNotExist)
			if !ok {
				if tt.err.Error() != "plain" {
					t.Errorf("a plain error changed: %v", tt.err)
				}
				return
			}
			if got := e.ErrorMessage(); got != tt.want {
				t.Errorf("ErrorMessage() = %q, want %q", got, tt.want)
			}
			be := fromAPIError(e)
			if be.Code != backend.CodeQueueDoesNotExist || be.Message != tt.want {
				t.Errorf("fromAPIError = %+v, want code %s, message %q", be, backend.CodeQueueDoesNotExist, tt.want)
			}
		})
	}
}

func TestAllEntries(t *testing.T) {
	if got := allEntries(3); len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Errorf("allEntries(3) = %v, want [0 1 2]", got)
	}
	if got := allEntries(0); len(got) != 0 {
		t.Errorf("allEntries(0) = %v, want []", got)
	}
}
