package logged_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/postbox-go/postbox/internal/logged"
)

func TestMark(t *testing.T) {
	if logged.Mark(nil) != nil {
		t.Error("Mark(nil) is not nil")
	}
	err := logged.Mark(fmt.Errorf("reading: %w", io.EOF))
	if !logged.Is(err) || !errors.Is(err, io.EOF) || err.Error() != "reading: EOF" {
		t.Errorf("marked: %v, Is %v", err, logged.Is(err))
	}
	if wrapped := fmt.Errorf("handler: %w", err); !logged.Is(wrapped) {
		t.Error("a wrapped mark is not seen")
	}
	if logged.Is(io.EOF) {
		t.Error("an unmarked error is seen as logged")
	}
	if logged.Mark(err) != err {
		t.Error("marked twice")
	}
}
