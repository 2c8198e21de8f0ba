package dashboard

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/backend/native/server/metrics"
)

// TestBrowser drives Debian's chromium through chromedriver against the
// engine, the SQS server and the dashboard on one 127.0.0.1 port: the
// queue list shows a send made through the SQS API, the queue page sends a
// message and purges. With POSTBOX_SCREENSHOT=1 it saves the queue page to
// docs/dashboard.png.
func TestBrowser(t *testing.T) {
	browserAvailable(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	eng, err := native.New(native.Config{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mets, err := metrics.New(metrics.Config{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	sqsSrv, err := server.New(server.Config{Service: eng, Observe: mets.Observe})
	if err != nil {
		t.Fatal(err)
	}
	dash, err := New(Config{Engine: eng, Interval: 250 * time.Millisecond, RateWindow: 2 * time.Second,
		Server: ServerInfo{Version: "v1.2.3-test"},
		Requests: func() []ActionCount {
			var out []ActionCount
			for _, c := range mets.Counts() {
				out = append(out, ActionCount(c))
			}
			return out
		}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(dash.Wrap(sqsSrv))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Config.RegisterOnShutdown(func() { dash.Close() })
	hs.Start()
	defer hs.Close()
	defer dash.Close() // before hs.Close, which waits for the event streams

	// Queues made and fed through the SQS API, as any client would.
	svc, err := awssqs.OpenEndpoint(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	dlqURL, err := svc.CreateQueue(ctx, "orders-dlq", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ordersURL, err := svc.CreateQueue(ctx, "orders", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":"5"}`,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateQueue(ctx, "events.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil); err != nil {
		t.Fatal(err)
	}
	orders, _ := svc.Queue(ordersURL)
	dlq, _ := svc.Queue(dlqURL)

	wd := startChromedriver(t, ctx)
	wd.setScriptTimeout(ctx, 15*time.Second)
	wd.navigate(ctx, base+"/_postbox/")
	visible := func(q string) string {
		return `(document.querySelector('tr[data-queue="` + q + `"] td.visible') || {}).textContent`
	}
	wd.waitFor(ctx, "the queue list", visible("orders")+` === '0'`, `document.body.innerText`)

	// A send through the SQS API shows on the page.
	if _, err := orders.Send(ctx, []backend.SendEntry{{ID: "1", Body: `{"order":1001,"item":"teapot"}`}}); err != nil {
		t.Fatal(err)
	}
	wd.waitFor(ctx, "the depth to change after an SQS send", visible("orders")+` === '1'`, visible("orders"))
	if got := wd.text(ctx, `tr[data-queue="orders-dlq"] td:last-child`); !strings.Contains(got, "orders") {
		t.Fatalf("dead-letter wiring on the list: %q", got)
	}

	// The queue page.
	wd.click(ctx, `tr[data-queue="orders"] a`)
	wd.waitFor(ctx, "the queue page", `document.querySelector('#stat-visible') && document.querySelector('#messages tbody tr.msg')`, `document.body.innerText`)

	// Send a test message through the UI.
	wd.typeInto(ctx, "#send-body", `{"hello":"from the browser"}`)
	wd.click(ctx, "#send-button")
	wd.waitFor(ctx, "the sent message in the message list",
		`[...document.querySelectorAll('#messages td.body')].some(td => td.textContent.includes('from the browser'))`,
		`document.querySelector('#messages').innerText`)
	found := false
	for _, m := range peekAll(t, ctx, eng, ordersURL) {
		found = found || m.Body == `{"hello":"from the browser"}`
	}
	if !found {
		t.Fatal("the engine does not hold the message sent from the page")
	}

	// Edit an attribute: saved through SetQueueAttributes; a value the
	// engine refuses shows its SQS code inline and changes nothing.
	wd.waitFor(ctx, "the settings form", `document.querySelector('#attr-VisibilityTimeout').value === '30' && document.querySelector('#queue-arn').textContent.endsWith(':orders')`,
		`document.querySelector('#settings').innerText`)
	wd.typeInto(ctx, "#attr-VisibilityTimeout", "45")
	wd.click(ctx, "#settings-save")
	wd.waitFor(ctx, "the saved setting", `document.querySelector('#notice').textContent.includes('Saved VisibilityTimeout')`, `document.querySelector('#notice').textContent`)
	if a, _ := eng.GetAttributes(ctx, ordersURL, []string{"VisibilityTimeout"}); a["VisibilityTimeout"] != "45" {
		t.Fatalf("VisibilityTimeout after the page saved 45: %v", a)
	}
	wd.typeInto(ctx, "#attr-MessageRetentionPeriod", "10")
	wd.click(ctx, "#settings-save")
	wd.waitFor(ctx, "the inline error", `!document.querySelector('#settings-error').hidden && document.querySelector('#settings-error').textContent.startsWith('InvalidAttributeValue')`,
		`document.querySelector('#settings').innerText`)
	if a, _ := eng.GetAttributes(ctx, ordersURL, []string{"MessageRetentionPeriod"}); a["MessageRetentionPeriod"] != "345600" {
		t.Fatalf("a refused setting changed the queue: %v", a)
	}
	wd.typeInto(ctx, "#tags-edit", "team=orders")
	wd.click(ctx, "#tags-save")
	wd.waitFor(ctx, "the saved tags", `document.querySelector('#notice').textContent.includes('Tags saved')`, `document.querySelector('#settings').innerText`)
	if tags, _ := eng.ListTags(ctx, ordersURL); tags["team"] != "orders" {
		t.Fatalf("tags after the page saved them: %v", tags)
	}

	// Some traffic for the charts (and the screenshot): sends, receives
	// and deletes through the SQS API.
	traffic, stopTraffic := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { runTraffic(traffic, orders, dlq) })
	defer func() { stopTraffic(); wg.Wait() }()
	// Let the charts draw a few seconds of traffic, then the screenshot.
	wd.waitFor(ctx, "rates on the chart", `document.querySelectorAll('#rate-chart path').length === 3 && parseFloat(document.querySelector('#stat-receive').textContent) > 0`,
		`document.querySelector('.cards').innerText`)
	if os.Getenv("POSTBOX_SCREENSHOT") == "1" {
		wd.waitFor(ctx, "a few seconds of traffic", `parseInt(document.querySelector('#stat-total').textContent.replace(/,/g, '')) >= 200 && (window.scrollTo(0, 0), window.scrollY === 0)`, ``)
		wd.screenshot(ctx, filepath.Join("..", "..", "..", "docs", "dashboard.png"))
	}
	stopTraffic()
	wg.Wait()

	// Purge through the UI, with its confirmation.
	wd.click(ctx, "#purge-button")
	wd.waitFor(ctx, "the purge confirmation", `!document.querySelector('#purge-confirm-box').hidden`, ``)
	wd.click(ctx, "#purge-confirm")
	wd.waitFor(ctx, "the queue to be empty on the page",
		`document.querySelector('#stat-visible').textContent === '0' && document.querySelector('#stat-inflight').textContent === '0' && document.querySelector('#messages td.empty')`,
		`document.querySelector('.cards').innerText`)
	if s, err := eng.QueueStats(ordersURL); err != nil || s.Visible+s.InFlight+s.Delayed != 0 {
		t.Fatalf("after the purge: %+v %v", s, err)
	}

	// Back to the list: it shows the purged queue as empty.
	wd.click(ctx, `main p a[href="#/"]`)
	wd.waitFor(ctx, "the list again", visible("orders")+` === '0'`, `document.body.innerText`)

	// A redrive out of the dead-letter queue, one message a second, with
	// its progress, then cancelled.
	var failed []backend.SendEntry // enough that the task runs for 10 seconds
	for i := range 10 {
		failed = append(failed, backend.SendEntry{ID: strconv.Itoa(i), Body: `{"order":"failed ` + strconv.Itoa(i) + `"}`})
	}
	if _, err := dlq.Send(ctx, failed); err != nil {
		t.Fatal(err)
	}
	wd.click(ctx, `tr[data-queue="orders-dlq"] td:first-child a`)
	wd.waitFor(ctx, "the redrive panel", `!document.querySelector('#redrive').hidden && document.querySelector('#redrive-dest option[value$=":orders"]')`, `document.body.innerText`)
	wd.click(ctx, `#redrive-dest option[value$=":orders"]`)
	wd.typeInto(ctx, "#redrive-rate", "1")
	wd.click(ctx, "#redrive-start")
	wd.waitFor(ctx, "a running redrive with progress",
		`[...document.querySelectorAll('#tasks tr.task[data-status="RUNNING"]')].some(tr => / \/ [1-9]/.test(tr.textContent))`,
		`document.querySelector('#redrive').innerText`)
	wd.click(ctx, `#tasks tr.task[data-status="RUNNING"] button`)
	wd.waitFor(ctx, "the cancelled redrive", `document.querySelector('#tasks tr.task[data-status="CANCELLED"]')`,
		`document.querySelector('#redrive').innerText`)
	if s, _ := eng.QueueStats(ordersURL); s.Visible < 1 {
		t.Fatalf("the redrive moved nothing to orders: %+v", s)
	}

	// The message browser: filter, move only the selected message out of
	// the dead-letter queue, copy one as JSON, delete one.
	stuck := []backend.SendEntry{
		{ID: "a", Body: `{"order":"stuck A"}`, MessageAttributes: map[string]backend.MessageAttributeValue{"reason": {DataType: "String", StringValue: "timeout"}}},
		{ID: "b", Body: `{"order":"stuck B"}`},
	}
	if _, err := dlq.Send(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	wd.typeInto(ctx, "#filter-text", "stuck")
	wd.typeInto(ctx, "#filter-attr", "reason=timeout")
	wd.click(ctx, "#filter-apply")
	wd.waitFor(ctx, "the filtered list", `document.querySelectorAll('#messages tr.msg').length === 1 && document.querySelector('#messages td.body').textContent.includes('stuck A') && location.hash.includes('attr=reason%3Dtimeout')`,
		`document.querySelector('#browser').innerText + ' ' + location.hash`)
	wd.click(ctx, "#messages tr.msg input.sel")
	wd.waitFor(ctx, "the actions bar", `!document.querySelector('#message-actions').hidden && document.querySelector('#move-dest option[value="orders"]')`, `document.querySelector('#browser').innerText`)
	wd.click(ctx, `#move-dest option[value="orders"]`)
	wd.click(ctx, "#move-selected")
	wd.waitFor(ctx, "the moved message gone from the filtered list", `document.querySelector('#notice').textContent.startsWith('Moved 1 message') && document.querySelector('#messages td.empty')`,
		`document.querySelector('#notice').textContent + document.querySelector('#browser').innerText`)
	bodiesOf := func(url string) map[string]int {
		out := map[string]int{}
		for _, m := range peekAll(t, ctx, eng, url) {
			out[m.Body]++
		}
		return out
	}
	if o, d := bodiesOf(ordersURL), bodiesOf(dlqURL); o[`{"order":"stuck A"}`] != 1 || d[`{"order":"stuck A"}`] != 0 || d[`{"order":"stuck B"}`] != 1 {
		t.Fatalf("after the move: orders %v, dead-letter queue %v", o, d)
	}
	wd.typeInto(ctx, "#filter-attr", "")
	wd.click(ctx, "#filter-apply")
	wd.waitFor(ctx, "stuck B", `document.querySelectorAll('#messages tr.msg').length === 1 && document.querySelector('#messages td.body').textContent.includes('stuck B')`,
		`document.querySelector('#browser').innerText`)
	wd.click(ctx, "#messages tr.msg td.body")
	wd.waitFor(ctx, "the open message with its link", `document.querySelector('#messages tr.detail .msg-copy') && location.hash.includes('/messages/')`, `location.hash`)
	wd.click(ctx, "#messages tr.detail .msg-copy")
	wd.waitFor(ctx, "the message as JSON", `JSON.parse(document.querySelector('#copied-json').value).body === '{"order":"stuck B"}'`, `document.querySelector('#copied-json').value`)
	wd.click(ctx, "#messages tr.detail .msg-delete")
	wd.click(ctx, "#messages tr.detail .msg-delete")
	wd.waitFor(ctx, "the deleted message", `document.querySelector('#notice').textContent.startsWith('Deleted 1 message') && document.querySelector('#messages td.empty')`,
		`document.querySelector('#notice').textContent`)
	if d := bodiesOf(dlqURL); d[`{"order":"stuck B"}`] != 0 {
		t.Fatalf("the deleted message is still in the dead-letter queue: %v", d)
	}

	// Create a queue with a dead-letter queue from the list; a name the
	// engine refuses shows its code in the form.
	wd.click(ctx, `main p a[href="#/"]`)
	wd.waitFor(ctx, "the list again", visible("orders")+` !== undefined && document.querySelector('#create-dlq option[value$=":orders-dlq"]')`, `document.body.innerText`)
	wd.click(ctx, "#new-queue")
	wd.typeInto(ctx, "#create-name", "bad name!")
	wd.click(ctx, "#create-button")
	wd.waitFor(ctx, "the create error", `!document.querySelector('#create-error').hidden && document.querySelector('#create-error').textContent.startsWith('InvalidParameterValue')`,
		`document.querySelector('#create-form').innerText`)
	wd.typeInto(ctx, "#create-name", "invoices")
	wd.typeInto(ctx, "#create-visibility", "90")
	wd.click(ctx, `#create-dlq option[value$=":orders-dlq"]`)
	wd.typeInto(ctx, "#create-maxrc", "3")
	wd.click(ctx, "#create-button")
	wd.waitFor(ctx, "the new queue's page", `document.querySelector('#queue-arn') && document.querySelector('#queue-arn').textContent.endsWith(':invoices')`, `document.body.innerText`)
	invoicesURL, err := eng.QueueURL(ctx, "invoices", "")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := eng.GetAttributes(ctx, invoicesURL, []string{"VisibilityTimeout", "RedrivePolicy"}); a["VisibilityTimeout"] != "90" || !strings.Contains(a["RedrivePolicy"], `"maxReceiveCount":3`) {
		t.Fatalf("the created queue: %v", a)
	}

	// Delete it, with its confirmation.
	wd.click(ctx, "#delete-queue")
	wd.waitFor(ctx, "the delete confirmation", `!document.querySelector('#delete-queue-box').hidden`, ``)
	wd.click(ctx, "#delete-queue-confirm")
	wd.waitFor(ctx, "the list without the queue", visible("orders")+` !== undefined && !document.querySelector('tr[data-queue="invoices"]')`, `document.body.innerText`)
	if _, err := eng.QueueURL(ctx, "invoices", ""); err == nil {
		t.Fatal("the queue deleted on the page still exists")
	}

	// The keyboard: / filters the queue list, j picks a queue, Enter opens
	// it; g s goes to the server page, ? shows the shortcuts.
	wd.keys(ctx, "/")
	wd.waitFor(ctx, "the focused queue filter", `document.activeElement && document.activeElement.id === 'queue-filter'`, `document.activeElement && document.activeElement.outerHTML`)
	wd.keys(ctx, "dlq\uE00C")
	wd.waitFor(ctx, "the filtered queue list", `[...document.querySelectorAll('#queues tbody tr[data-queue]')].filter(tr => !tr.hidden).map(tr => tr.dataset.queue).join() === 'orders-dlq'`,
		`document.querySelector('#queues').innerText`)
	wd.keys(ctx, "j\uE007")
	wd.waitFor(ctx, "the queue opened from the keyboard", `location.hash === '#/queues/orders-dlq' && document.querySelector('#queue-arn') && document.querySelector('#queue-arn').textContent.endsWith(':orders-dlq')`,
		`location.hash`)
	wd.keys(ctx, "?")
	wd.waitFor(ctx, "the shortcuts", `!document.querySelector('#shortcuts').hidden`, ``)
	wd.keys(ctx, "\uE00Cgq")
	wd.waitFor(ctx, "the list from the keyboard", `location.hash === '#/' && document.querySelector('#queues') && document.querySelector('#shortcuts').hidden`, `location.hash`)

	// A message's link opens the page with that message shown, wherever
	// it is in the queue.
	var linked string
	for _, m := range peekAll(t, ctx, eng, ordersURL) {
		if m.Body == `{"order":"stuck A"}` {
			linked = m.MessageID
		}
	}
	wd.navigate(ctx, base+"/_postbox/#/queues/orders/messages/"+linked)
	wd.waitFor(ctx, "the linked message, open", `document.querySelector('#messages tr.detail[data-id="`+linked+`"]') && document.querySelector('#messages tr.detail').textContent.includes('stuck A')`,
		`document.querySelector('#browser').innerText`)
	wd.navigate(ctx, base+"/_postbox/#/")
	wd.waitFor(ctx, "the list", visible("orders")+` !== undefined`, ``)

	// The server page: version, storage, authentication, totals, and the
	// SQS API's requests by action and errors by code.
	if _, err := svc.QueueURL(ctx, "no-such-queue", ""); err == nil {
		t.Fatal("QueueURL of a missing queue succeeded")
	}
	wd.click(ctx, "#nav-server")
	wd.waitFor(ctx, "the server page", `document.querySelector('#server-version') && document.querySelector('#server-version').textContent === 'v1.2.3-test'
		&& document.querySelector('#server-storage').textContent.startsWith('memory')
		&& document.querySelector('#server-auth').textContent.startsWith('anonymous')
		&& document.querySelector('#server-queues').textContent === '3'
		&& parseInt(document.querySelector('#server-actions tr[data-action="SendMessageBatch"] td:nth-child(3)').textContent.replace(/,/g, '')) > 0
		&& document.querySelector('#server-errors tr[data-code="AWS.SimpleQueueService.NonExistentQueue"]')`,
		`document.querySelector('main').innerText`)
	if os.Getenv("POSTBOX_SCREENSHOT") == "1" {
		wd.waitFor(ctx, "the top of the page", `(window.scrollTo(0, 0), window.scrollY === 0)`, ``)
		wd.screenshot(ctx, filepath.Join("..", "..", "..", "docs", "dashboard-server.png"))
	}
}

func peekAll(t *testing.T, ctx context.Context, eng *native.Engine, url string) []native.PeekedMessage {
	t.Helper()
	ms, err := eng.Peek(ctx, url, native.PeekRequest{Max: native.MaxPeekMax})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// runTraffic sends, receives and deletes through q at a few dozen messages
// a second, leaving a backlog, until ctx ends.
func runTraffic(ctx context.Context, q, dlq backend.Queue) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var entries []backend.SendEntry
		for j := range 4 + i%3 {
			entries = append(entries, backend.SendEntry{ID: strconv.Itoa(j), Body: `{"order":` + strconv.Itoa(2000+i*10+j) + `}`})
		}
		if _, err := q.Send(ctx, entries); err != nil {
			return
		}
		if i%7 == 0 {
			dlq.Send(ctx, []backend.SendEntry{{ID: "d", Body: `{"order":"failed"}`}})
		}
		ms, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 3 + i%2, WaitTimeSeconds: new(0)})
		if err != nil {
			return
		}
		var del []backend.DeleteEntry
		for j, m := range ms {
			if j%3 != 2 { // leave some in flight
				del = append(del, backend.DeleteEntry{ID: strconv.Itoa(j), ReceiptHandle: m.ReceiptHandle})
			}
		}
		if len(del) > 0 {
			q.Delete(ctx, del)
		}
	}
}

var _ http.Handler = (*Handler)(nil)
