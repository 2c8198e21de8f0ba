package backendtest

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestScenarioNames checks that scenario names are unique within their
// group and that every group has scenarios, so that subtest names address
// exactly one scenario.
func TestScenarioNames(t *testing.T) {
	groupNames := map[string]bool{}
	for _, g := range groups {
		if groupNames[g.name] {
			t.Errorf("group %q listed twice", g.name)
		}
		groupNames[g.name] = true
		scs := g.scenarios()
		if len(scs) == 0 {
			t.Errorf("group %q has no scenarios", g.name)
		}
		names := map[string]bool{}
		for _, sc := range scs {
			if sc.name == "" || sc.run == nil {
				t.Errorf("group %q has a scenario without a name or a run function", g.name)
			}
			if names[sc.name] {
				t.Errorf("scenario %s/%s listed twice", g.name, sc.name)
			}
			names[sc.name] = true
		}
	}
}

func TestCapabilities(t *testing.T) {
	h := Harness{FIFO: true, MoveTasks: true}
	for _, tc := range []struct {
		c    capability
		want bool
	}{
		{0, true},
		{capFIFO, true},
		{capMoveTasks, true},
		{capFIFO | capMoveTasks, true},
		{capDeadLetter, false},
		{capFIFO | capFairQueues, false},
	} {
		if got := h.has(tc.c); got != tc.want {
			t.Errorf("has(%v) = %v, want %v", tc.c, got, tc.want)
		}
	}
	if s := (capFIFO | capDeadLetter).String(); s != "FIFO+DeadLetter" {
		t.Errorf("String() = %q", s)
	}
}

func TestARNParts(t *testing.T) {
	for _, tc := range []struct {
		arn                   string
		region, account, name string
		ok                    bool
	}{
		{"arn:aws:sqs:us-east-1:000000000000:q", "us-east-1", "000000000000", "q", true},
		{"arn:aws-cn:sqs:cn-north-1:123:x.fifo", "cn-north-1", "123", "x.fifo", true},
		{"arn:aws:sns:us-east-1:000000000000:q", "", "", "", false},
		{"arn:aws:sqs:us-east-1:000000000000", "", "", "", false},
		{"", "", "", "", false},
	} {
		r, a, n, ok := arnParts(tc.arn)
		if r != tc.region || a != tc.account || n != tc.name || ok != tc.ok {
			t.Errorf("arnParts(%q) = %q %q %q %v", tc.arn, r, a, n, ok)
		}
	}
}
