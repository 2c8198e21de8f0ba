package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, re := range []string{
		`(?m)^producer: sent a 5\.0 MiB job as a \d+-byte message:\n  \["software\.amazon\.payloadoffloading\.PayloadS3Pointer",\{"s3BucketName":"postbox-payloads","s3Key":"reports/[0-9a-f-]{36}"\}\]$`,
		`(?m)^worker: "quarterly numbers", 5120 rows, read from s3://postbox-payloads/reports/[0-9a-f-]{36}$`,
		`(?m)^worker: \d+ bytes, the same SHA-256 as sent$`,
		`(?m)^s3: 0 objects left in postbox-payloads \(deleted after success\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output does not match %s:\n%s", re, out.String())
		}
	}
}
