package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"emails: welcome mail to Ada <ada@example.com>",
		"emails: goodbye mail to ken@example.com",
		"crm: new contact Ada (SNS message from arn:aws:sns:eu-west-1:123456789012:accounts)",
		"crm: contact ken@example.com left",
		"orders: order o-1001 for 19.99 placed (event 6a7e8feb-b491-4cf7-a9f1-bf3703467710 from com.example.shop)",
		"orders: order o-1002 for 39.98 placed",
		"fanout: 6 messages handled",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Count(out.String(), "\n") != 7 {
		t.Errorf("unexpected lines:\n%s", out.String())
	}
}
