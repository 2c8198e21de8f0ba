package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A tiny W3C WebDriver client for chromedriver: just what the browser test
// needs (sessions, navigation, elements, scripts, screenshots).

const (
	chromedriverPath = "/usr/bin/chromedriver"
	chromiumPath     = "/usr/bin/chromium"
	webElementKey    = "element-6066-11e4-a52e-4f735466cecf"
)

type webDriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT
	session string
	client  *http.Client
}

// startChromedriver starts chromedriver on a free 127.0.0.1 port, and a
// headless chromium session in it. Cleanup ends the session and kills
// chromedriver's process group (chromium included).
func startChromedriver(t *testing.T, ctx context.Context) *webDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cmd := exec.Command(chromedriverPath, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	started := make(chan struct{})
	var logBuf bytes.Buffer
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			line := sc.Text()
			logBuf.WriteString(line + "\n")
			if !once && strings.Contains(line, "started successfully") {
				once = true
				close(started)
			}
		}
		cmd.Wait()
	}()
	// The profile is made before the cleanup below is registered, so that
	// it is removed after that cleanup has killed chromium (cleanups run
	// last registered first): removed while chromium still ran, it was
	// sometimes written to under RemoveAll, which then failed the test.
	profile := t.TempDir()
	wd := &webDriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Transport: &http.Transport{}}}
	t.Cleanup(func() {
		if wd.session != "" {
			wd.call(context.Background(), "DELETE", "/session/"+wd.session, nil, nil)
		}
		wd.client.CloseIdleConnections()
		// chromedriver and everything it started (chromium and its helpers).
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	select {
	case <-started:
	case <-exited:
		t.Fatalf("chromedriver exited: %s", logBuf.String())
	case <-ctx.Done():
		t.Fatalf("chromedriver did not start: %v", ctx.Err())
	}

	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromiumPath,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1400,1100"},
		},
	}}}
	var res struct {
		SessionID string `json:"sessionId"`
	}
	if err := wd.call(ctx, "POST", "/session", caps, &res); err != nil {
		t.Fatalf("new session: %v\n%s", err, logBuf.String())
	}
	wd.session = res.SessionID
	return wd
}

// call sends one WebDriver command and decodes its "value" into out.
func (wd *webDriver) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, wd.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := wd.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s %s: %s: %s", method, path, e.Error, e.Message)
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

func (wd *webDriver) must(ctx context.Context, method, path string, in, out any) {
	wd.t.Helper()
	if err := wd.call(ctx, method, "/session/"+wd.session+path, in, out); err != nil {
		wd.t.Fatal(err)
	}
}

func (wd *webDriver) navigate(ctx context.Context, url string) {
	wd.t.Helper()
	wd.must(ctx, "POST", "/url", map[string]string{"url": url}, nil)
}

// find returns the element a CSS selector names.
func (wd *webDriver) find(ctx context.Context, css string) string {
	wd.t.Helper()
	var el map[string]string
	wd.must(ctx, "POST", "/element", map[string]string{"using": "css selector", "value": css}, &el)
	return el[webElementKey]
}

// click clicks the element css names, finding it again if the page
// replaced it between the find and the click.
func (wd *webDriver) click(ctx context.Context, css string) {
	wd.t.Helper()
	var err error
	for range 3 {
		err = wd.call(ctx, "POST", "/session/"+wd.session+"/element/"+wd.find(ctx, css)+"/click", map[string]any{}, nil)
		if err == nil || !strings.Contains(err.Error(), "stale element") {
			break
		}
	}
	if err != nil {
		wd.t.Fatal(err)
	}
}

func (wd *webDriver) typeInto(ctx context.Context, css, text string) {
	wd.t.Helper()
	id := wd.find(ctx, css)
	wd.must(ctx, "POST", "/element/"+id+"/clear", map[string]any{}, nil)
	wd.must(ctx, "POST", "/element/"+id+"/value", map[string]string{"text": text}, nil)
}

// keys presses and releases each key of s in turn on the focused element
// (the page when none), as a keyboard does (W3C actions). "\uE00C" is
// Escape, "\uE007" Enter.
func (wd *webDriver) keys(ctx context.Context, s string) {
	wd.t.Helper()
	var acts []map[string]string
	for _, r := range s {
		acts = append(acts, map[string]string{"type": "keyDown", "value": string(r)}, map[string]string{"type": "keyUp", "value": string(r)})
	}
	wd.must(ctx, "POST", "/actions", map[string]any{"actions": []any{map[string]any{"type": "key", "id": "keyboard", "actions": acts}}}, nil)
}

func (wd *webDriver) text(ctx context.Context, css string) string {
	wd.t.Helper()
	var s string
	wd.must(ctx, "GET", "/element/"+wd.find(ctx, css)+"/text", nil, &s)
	return s
}

// waitFor waits, inside the browser, until the JavaScript expression cond
// is true (checked on every animation frame and DOM change), or the
// script timeout passes. It returns the expression's last diagnostic: the
// text of diag when given.
func (wd *webDriver) waitFor(ctx context.Context, what, cond, diag string) {
	wd.t.Helper()
	script := `
const done = arguments[arguments.length - 1];
const check = () => { try { return !!(` + cond + `); } catch (e) { return false; } };
if (check()) { done(true); return; }
const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); done(true); } });
obs.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});`
	var ok bool
	if err := wd.call(ctx, "POST", "/session/"+wd.session+"/execute/async", map[string]any{"script": script, "args": []any{}}, &ok); err != nil || !ok {
		var d any
		if diag != "" {
			wd.call(context.Background(), "POST", "/session/"+wd.session+"/execute/sync",
				map[string]any{"script": "return " + diag, "args": []any{}}, &d)
		}
		wd.t.Fatalf("waiting for %s: %v (page: %v)", what, err, d)
	}
}

func (wd *webDriver) setScriptTimeout(ctx context.Context, d time.Duration) {
	wd.t.Helper()
	wd.must(ctx, "POST", "/timeouts", map[string]int64{"script": d.Milliseconds()}, nil)
}

func (wd *webDriver) screenshot(ctx context.Context, path string) {
	wd.t.Helper()
	var b64 string
	wd.must(ctx, "GET", "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		wd.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		wd.t.Fatal(err)
	}
}

// browserAvailable reports whether chromedriver and chromium are installed;
// without them the browser test skips, unless POSTBOX_BROWSER_TEST=1
// demands it.
func browserAvailable(t *testing.T) {
	t.Helper()
	var missing []string
	for _, p := range []string{chromedriverPath, chromiumPath} {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("POSTBOX_BROWSER_TEST") == "1" {
		t.Fatalf("POSTBOX_BROWSER_TEST=1 but %v missing (apt-get install chromium chromium-driver)", missing)
	}
	t.Skipf("%v missing; set POSTBOX_BROWSER_TEST=1 to make this a failure", missing)
}
