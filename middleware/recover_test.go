package middleware_test

import (
	"context"
	"errors"
	"testing"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

func TestRecover(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		h         consumer.HandlerFunc
		wantValue any
		wantErr   error
	}{
		{"no panic", func(context.Context, *consumer.Message) error { return nil }, nil, nil},
		{"error passes", func(context.Context, *consumer.Message) error { return boom }, nil, boom},
		{"panic with string", func(context.Context, *consumer.Message) error { panic("oops") }, "oops", nil},
		{"panic with error", func(context.Context, *consumer.Message) error { panic(boom) }, boom, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := middleware.Recover()(tc.h).HandleMessage(context.Background(), testMessage())
			var pe *consumer.PanicError
			if tc.wantValue == nil {
				if errors.As(err, &pe) || !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.As(err, &pe) || pe.Value != tc.wantValue || len(pe.Stack) == 0 {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("%v does not unwrap to %v", err, tc.wantErr)
			}
		})
	}
}
