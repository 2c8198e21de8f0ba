package server

import (
	"bytes"
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// queryNamespace is the XML namespace of query protocol responses.
const queryNamespace = "http://queue.amazonaws.com/doc/2012-11-05/"

// xmlWriter appends XML to a buffer.
type xmlWriter struct {
	b *bytes.Buffer
}

func (x *xmlWriter) raw(s string) { x.b.WriteString(s) }

func (x *xmlWriter) open(tag string) {
	x.b.WriteByte('<')
	x.b.WriteString(tag)
	x.b.WriteByte('>')
}

func (x *xmlWriter) close(tag string) {
	x.b.WriteString("</")
	x.b.WriteString(tag)
	x.b.WriteByte('>')
}

// elem writes <tag>text</tag>, escaping text.
func (x *xmlWriter) elem(tag, text string) {
	x.open(tag)
	x.text(text)
	x.close(tag)
}

// opt writes <tag>text</tag> when text is not empty.
func (x *xmlWriter) opt(tag, text string) {
	if text != "" {
		x.elem(tag, text)
	}
}

// text writes s escaped as XML character data. Carriage returns and tabs
// are written as character references so that XML parsers' end-of-line
// handling keeps them; characters XML cannot carry (which SQS never
// accepts into a message) become U+FFFD.
func (x *xmlWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' {
			i++
			continue
		}
		r, n := rune(c), 1
		if c >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '"':
			esc = "&quot;"
		case r == '\r':
			esc = "&#xD;"
		case r == '\n':
			esc = "&#xA;"
		case r == '\t':
			esc = "&#x9;"
		case r == utf8.RuneError && n == 1, r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			esc = "\uFFFD"
		default:
			i += n
			continue
		}
		x.b.WriteString(s[last:i])
		x.b.WriteString(esc)
		i += n
		last = i
	}
	x.b.WriteString(s[last:])
}

// writeXMLError writes we in the query protocol's ErrorResponse shape.
func writeXMLError(w http.ResponseWriter, buf *bytes.Buffer, we wireError, rid string) {
	x := &xmlWriter{b: buf}
	x.raw(`<?xml version="1.0"?>` + "\n" + `<ErrorResponse xmlns="` + queryNamespace + `"><Error>`)
	x.elem("Type", we.faultType())
	x.elem("Code", we.queryCode)
	x.elem("Message", queryMessage(we))
	x.raw("<Detail/></Error>")
	x.elem("RequestId", rid)
	x.raw("</ErrorResponse>")
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Query-Error", we.queryErrorHeader())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(we.status)
	w.Write(buf.Bytes())
}

// ---- per-action result writers ------------------------------------------

func xmlQueueURL(x *xmlWriter, o *queueURLOutput) { x.elem("QueueUrl", o.QueueURL) }

func xmlListQueues(x *xmlWriter, o *listQueuesOutput) {
	for _, u := range o.QueueURLs {
		x.elem("QueueUrl", u)
	}
	x.opt("NextToken", o.NextToken)
}

func xmlListDLQSources(x *xmlWriter, o *listDLQSourcesOutput) {
	for _, u := range o.QueueURLs {
		x.elem("QueueUrl", u)
	}
	x.opt("NextToken", o.NextToken)
}

// xmlNameValues writes a map as <tag><Name>k</Name><Value>v</Value></tag>
// entries, sorted by key.
func xmlNameValues(x *xmlWriter, tag, name, value string, m map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		x.open(tag)
		x.elem(name, k)
		x.elem(value, m[k])
		x.close(tag)
	}
}

func xmlAttributes(x *xmlWriter, o *attributesOutput) {
	xmlNameValues(x, "Attribute", "Name", "Value", o.Attributes)
}

func xmlListTags(x *xmlWriter, o *listTagsOutput) {
	xmlNameValues(x, "Tag", "Key", "Value", o.Tags)
}

func xmlSendMessage(x *xmlWriter, o *sendMessageOutput) {
	x.elem("MD5OfMessageBody", o.MD5OfMessageBody)
	x.opt("MD5OfMessageAttributes", o.MD5OfMessageAttributes)
	x.opt("MD5OfMessageSystemAttributes", o.MD5OfMessageSystemAttributes)
	x.elem("MessageId", o.MessageID)
	x.opt("SequenceNumber", o.SequenceNumber)
}

func xmlBatchErrors(x *xmlWriter, failed []batchErrorEntry) {
	for _, f := range failed {
		x.open("BatchResultErrorEntry")
		x.elem("Id", f.ID)
		x.elem("SenderFault", strconv.FormatBool(f.SenderFault))
		x.elem("Code", f.Code)
		x.opt("Message", f.Message)
		x.close("BatchResultErrorEntry")
	}
}

func xmlSendMessageBatch(x *xmlWriter, o *sendMessageBatchOutput) {
	for _, e := range o.Successful {
		x.open("SendMessageBatchResultEntry")
		x.elem("Id", e.ID)
		x.elem("MessageId", e.MessageID)
		x.elem("MD5OfMessageBody", e.MD5OfMessageBody)
		x.opt("MD5OfMessageAttributes", e.MD5OfMessageAttributes)
		x.opt("MD5OfMessageSystemAttributes", e.MD5OfMessageSystemAttributes)
		x.opt("SequenceNumber", e.SequenceNumber)
		x.close("SendMessageBatchResultEntry")
	}
	xmlBatchErrors(x, o.Failed)
}

// xmlBatch returns the writer of a Delete or ChangeVisibility batch result
// whose successful entries are named tag.
func xmlBatch(tag string) func(*xmlWriter, *batchOutput) {
	return func(x *xmlWriter, o *batchOutput) {
		for _, e := range o.Successful {
			x.open(tag)
			x.elem("Id", e.ID)
			x.close(tag)
		}
		xmlBatchErrors(x, o.Failed)
	}
}

func xmlReceiveMessage(x *xmlWriter, o *receiveMessageOutput) {
	for i := range o.Messages {
		m := &o.Messages[i]
		x.open("Message")
		x.elem("MessageId", m.MessageID)
		x.elem("ReceiptHandle", m.ReceiptHandle)
		x.elem("MD5OfBody", m.MD5OfBody)
		x.elem("Body", m.Body)
		xmlNameValues(x, "Attribute", "Name", "Value", m.Attributes)
		x.opt("MD5OfMessageAttributes", m.MD5OfMessageAttributes)
		for _, k := range slices.Sorted(maps.Keys(m.MessageAttributes)) {
			v := m.MessageAttributes[k]
			x.open("MessageAttribute")
			x.elem("Name", k)
			x.open("Value")
			if v.BinaryValue != nil {
				x.elem("BinaryValue", base64.StdEncoding.EncodeToString(v.BinaryValue))
			} else {
				x.elem("StringValue", v.StringValue)
			}
			x.elem("DataType", v.DataType)
			x.close("Value")
			x.close("MessageAttribute")
		}
		x.close("Message")
	}
}

func xmlStartMoveTask(x *xmlWriter, o *startMoveTaskOutput) { x.elem("TaskHandle", o.TaskHandle) }

func xmlCancelMoveTask(x *xmlWriter, o *cancelMoveTaskOutput) {
	x.elem("ApproximateNumberOfMessagesMoved", strconv.FormatInt(o.ApproximateNumberOfMessagesMoved, 10))
}

func xmlListMoveTasks(x *xmlWriter, o *listMoveTasksOutput) {
	for _, t := range o.Results {
		x.open("ListMessageMoveTasksResultEntry")
		x.opt("TaskHandle", t.TaskHandle)
		x.opt("Status", t.Status)
		x.opt("SourceArn", t.SourceARN)
		x.opt("DestinationArn", t.DestinationARN)
		if t.MaxNumberOfMessagesPerSecond != nil {
			x.elem("MaxNumberOfMessagesPerSecond", strconv.Itoa(*t.MaxNumberOfMessagesPerSecond))
		}
		x.elem("ApproximateNumberOfMessagesMoved", strconv.FormatInt(t.ApproximateNumberOfMessagesMoved, 10))
		x.elem("ApproximateNumberOfMessagesToMove", strconv.FormatInt(t.ApproximateNumberOfMessagesToMove, 10))
		x.opt("FailureReason", t.FailureReason)
		if t.StartedTimestamp != 0 {
			x.elem("StartedTimestamp", strconv.FormatInt(t.StartedTimestamp, 10))
		}
		x.close("ListMessageMoveTasksResultEntry")
	}
}
