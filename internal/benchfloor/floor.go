// Package benchfloor is the floor of postbox's wire benchmarks: an HTTP
// handler that answers SendMessageBatch, ReceiveMessage and
// DeleteMessageBatch of the JSON protocol with canned valid answers
// (correct MD5s for the benchmarks' body and entry ids 0-9) and no queue
// behind them. It does the least an SQS server can: read the request, pick
// the answer by X-Amz-Target, write it. BenchmarkWire (backend/native/server)
// runs it in process; scripts/bench/floor serves it for wrk.
package benchfloor

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Batch is the number of entries of the canned batch answers.
const Batch = 10

// Payload is the 256-byte message body the benchmarks send, and the floor
// answers ReceiveMessage with.
var Payload = func() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	return string(b)
}()

// Handler returns the floor. host is the scheme://host[:port] of the queue
// URL it answers CreateQueue with.
func Handler(host string) http.Handler {
	sum := md5.Sum([]byte(Payload))
	digest := hex.EncodeToString(sum[:])
	type ok struct {
		ID               string `json:"Id"`
		MessageID        string `json:"MessageId,omitempty"`
		MD5OfMessageBody string `json:"MD5OfMessageBody,omitempty"`
	}
	type msg struct {
		MessageID     string `json:"MessageId"`
		ReceiptHandle string `json:"ReceiptHandle"`
		MD5OfBody     string `json:"MD5OfBody"`
		Body          string `json:"Body"`
	}
	var sent, deleted []ok
	var msgs []msg
	for i := range Batch {
		id := strconv.Itoa(i)
		sent = append(sent, ok{ID: id, MessageID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), MD5OfMessageBody: digest})
		deleted = append(deleted, ok{ID: id})
		msgs = append(msgs, msg{fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "handle-" + id, digest, Payload})
	}
	must := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	canned := map[string][]byte{
		"AmazonSQS.SendMessageBatch":   must(map[string]any{"Successful": sent, "Failed": []ok{}}),
		"AmazonSQS.ReceiveMessage":     must(map[string]any{"Messages": msgs}),
		"AmazonSQS.DeleteMessageBatch": must(map[string]any{"Successful": deleted, "Failed": []ok{}}),
		"AmazonSQS.CreateQueue":        must(map[string]any{"QueueUrl": host + "/000000000000/q"}),
	}
	empty := []byte("{}")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		body, found := canned[r.Header.Get("X-Amz-Target")]
		if !found {
			body = empty
		}
		h := w.Header()
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000000")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}
