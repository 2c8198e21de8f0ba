package all_test

import (
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/all"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEverySchemeIsRegistered(t *testing.T) {
	got := backend.Schemes()
	for _, want := range []string{"mem", "http", "https"} {
		if !slices.Contains(got, want) {
			t.Errorf("scheme %q is not registered; registered: %v", want, got)
		}
	}
}
