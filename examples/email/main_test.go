package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunWritesEveryMessage(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-n", "20", "-out", dir, "-queue", "mem://email-test"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	dead, _ := filepath.Glob(filepath.Join(dir, "dead", "*.json"))
	if len(emls) != 18 || len(dead) != 2 {
		t.Fatalf("%d .eml files and %d dead jobs, want 18 and 2\n%s", len(emls), len(dead), out.String())
	}
	for _, p := range dead {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var filed struct{ Type, Error, Body string }
		if err := json.Unmarshal(b, &filed); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if filed.Type != "newsletter" || !strings.Contains(filed.Error, `no handler for type "newsletter"`) ||
			!strings.HasPrefix(filed.Body, `{"to":`) {
			t.Errorf("%s: %+v", p, filed)
		}
	}
	subjects := map[string]int{}
	for _, p := range emls {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(f)
		if err != nil {
			f.Close()
			t.Fatalf("%s: %v", p, err)
		}
		body, _ := io.ReadAll(m.Body)
		f.Close()
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil || !strings.HasSuffix(to.Address, "@example.com") {
			t.Errorf("%s: To %q: %v", p, m.Header.Get("To"), err)
		}
		if _, err := m.Header.Date(); err != nil {
			t.Errorf("%s: Date: %v", p, err)
		}
		subj := m.Header.Get("Subject")
		switch kind := strings.SplitN(filepath.Base(p), "-", 2)[0]; kind {
		case "welcome":
			subjects["welcome"]++
			if !strings.HasPrefix(subj, "Welcome, ") || !bytes.Contains(body, []byte("Your account is ready")) {
				t.Errorf("%s: %q\n%s", p, subj, body)
			}
		case "receipt":
			subjects["receipt"]++
			if !strings.HasPrefix(subj, "Your order A-") || !bytes.Contains(body, []byte("Total: 5.10")) {
				t.Errorf("%s: %q\n%s", p, subj, body)
			}
		case "password_reset":
			subjects["reset"]++
			if subj != "Reset your password" || !bytes.Contains(body, []byte("https://shop.example.com/reset?token=")) {
				t.Errorf("%s: %q\n%s", p, subj, body)
			}
		default:
			t.Errorf("unexpected file %s", p)
		}
	}
	if subjects["welcome"] != 6 || subjects["receipt"] != 6 || subjects["reset"] != 6 {
		t.Errorf("kinds %v", subjects)
	}
	if !strings.Contains(out.String(), "18 messages written") {
		t.Errorf("summary:\n%s", out.String())
	}
}
