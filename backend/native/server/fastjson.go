package server

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// The JSON fast path. encoding/json spends most of the server's time on
// the message actions, so their inputs have hand-written decoders and their
// outputs hand-written encoders. A fast decoder accepts only a plain subset
// of JSON: exactly-cased known keys, each at most once, no null, no escape
// sequences in strings, integers in canonical form. On anything else it
// gives up and encoding/json decodes the request instead, so behaviour
// (including every error) is encoding/json's; a differential fuzz test
// holds the two to the same results.

// fastDecoder is implemented by inputs with a fast decoder. decodeFast
// reports false when the body is outside the fast subset.
type fastDecoder interface {
	decodeFast(l *lexer) bool
}

// fastEncoder is implemented by outputs with a hand-written encoder.
type fastEncoder interface {
	appendJSON(b []byte) []byte
}

// sizeHinter is implemented by outputs that can tell about how many bytes
// their JSON takes, so that the answer's buffer is grown once.
type sizeHinter interface {
	sizeHint() int
}

// lexer reads the fast subset of JSON.
type lexer struct {
	b []byte
	i int
}

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

// next skips whitespace and consumes c.
func (l *lexer) next(c byte) bool {
	l.ws()
	if l.i < len(l.b) && l.b[l.i] == c {
		l.i++
		return true
	}
	return false
}

// peek skips whitespace and reports whether the next byte is c.
func (l *lexer) peek(c byte) bool {
	l.ws()
	return l.i < len(l.b) && l.b[l.i] == c
}

// end reports whether only whitespace is left.
func (l *lexer) end() bool {
	l.ws()
	return l.i == len(l.b)
}

// raw reads a string without escapes and returns its bytes.
func (l *lexer) raw() ([]byte, bool) {
	if !l.next('"') {
		return nil, false
	}
	start := l.i
	ascii := true
	for l.i < len(l.b) {
		// Skip eight plain bytes at a time: message bodies are most of a
		// request and most of them need no escape.
		for l.i+8 <= len(l.b) && !special8(binary.LittleEndian.Uint64(l.b[l.i:])) {
			l.i += 8
		}
		if l.i >= len(l.b) {
			break
		}
		c := l.b[l.i]
		switch {
		case c == '"':
			s := l.b[start:l.i]
			l.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		l.i++
	}
	return nil, false
}

// special8 reports whether any of the eight bytes of w (little-endian, as
// read from a string) may need attention in a JSON string: a control
// character, '"', '\\' or a byte of a multi-byte UTF-8 sequence. It has
// no false negatives; a true answer may be wrong about the bytes after the
// first that is special, so callers look at bytes one at a time from there.
func special8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := w ^ ('"' * lo)
	b := w ^ ('\\' * lo)
	return ((w-0x20*lo)|(q-lo)|(b-lo)|w)&hi != 0
}

func (l *lexer) str() (string, bool) {
	s, ok := l.raw()
	return string(s), ok
}

// int reads an integer in canonical JSON form that fits an int.
func (l *lexer) int() (int, bool) {
	l.ws()
	start := l.i
	if l.i < len(l.b) && l.b[l.i] == '-' {
		l.i++
	}
	digits := l.i
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		l.i++
	}
	n := l.i - digits
	if n == 0 || n > 18 || (n > 1 && l.b[digits] == '0') {
		return 0, false
	}
	if l.i < len(l.b) {
		switch l.b[l.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	v, err := strconv.Atoi(string(l.b[start:l.i]))
	return v, err == nil
}

func (l *lexer) intPtr() (*int, bool) {
	v, ok := l.int()
	if !ok {
		return nil, false
	}
	return &v, true
}

// intIn reads an integer into *p and returns p: for inputs that keep their
// integers' storage, so that reading one allocates nothing.
func (l *lexer) intIn(p *int) (*int, bool) {
	v, ok := l.int()
	if !ok {
		return nil, false
	}
	*p = v
	return p, true
}

// object reads an object, calling field for each key; field consumes the
// value. Keys must be distinct: field numbers them through bit.
func (l *lexer) object(field func(key []byte) (bit uint64, ok bool)) bool {
	if !l.next('{') {
		return false
	}
	if l.next('}') {
		return true
	}
	var seen uint64
	for {
		key, ok := l.raw()
		if !ok || !l.next(':') {
			return false
		}
		bit, ok := field(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if l.next(',') {
			continue
		}
		return l.next('}')
	}
}

// array reads an array, calling elem for each element.
func (l *lexer) array(elem func() bool) bool {
	if !l.next('[') {
		return false
	}
	if l.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if l.next(',') {
			continue
		}
		return l.next(']')
	}
}

func (l *lexer) strings() ([]string, bool) {
	out := []string{}
	ok := l.array(func() bool {
		s, ok := l.str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// attrs reads a message attribute map.
func (l *lexer) attrs() (map[string]attrValue, bool) {
	out := map[string]attrValue{}
	keys := 0
	ok := l.object(func(name []byte) (uint64, bool) {
		keys++
		if keys > 64 {
			return 0, false
		}
		n := string(name)
		if _, dup := out[n]; dup {
			return 0, false
		}
		var a attrValue
		ok := l.object(func(k []byte) (uint64, bool) {
			switch string(k) {
			case "DataType":
				var ok bool
				a.DataType, ok = l.str()
				return 1, ok
			case "StringValue":
				s, ok := l.str()
				a.StringValue = &s
				return 2, ok
			case "BinaryValue":
				s, ok := l.raw()
				if !ok {
					return 0, false
				}
				dec := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
				n, err := base64.StdEncoding.Decode(dec, s)
				a.BinaryValue = dec[:n]
				return 4, err == nil
			}
			return 0, false
		})
		out[n] = a
		return 0, ok // distinct names are checked through the map
	})
	return out, ok
}

// ---- decoders --------------------------------------------------------------

func (in *sendMessageBatchInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "Entries":
			in.Entries = make([]sendBatchEntry, 0, 10)
			return 2, l.array(func() bool {
				in.Entries = append(in.Entries, sendBatchEntry{})
				e := &in.Entries[len(in.Entries)-1]
				return l.object(func(k []byte) (uint64, bool) {
					var ok bool
					switch string(k) {
					case "Id":
						e.ID, ok = l.str()
						return 1, ok
					case "MessageBody":
						e.MessageBody, ok = l.str()
						return 2, ok
					case "DelaySeconds":
						e.DelaySeconds, ok = l.intIn(&e.delay)
						return 4, ok
					case "MessageAttributes":
						e.MessageAttributes, ok = l.attrs()
						return 8, ok
					case "MessageSystemAttributes":
						e.MessageSystemAttributes, ok = l.attrs()
						return 16, ok
					case "MessageDeduplicationId":
						s, ok := l.str()
						e.MessageDeduplicationID = &s
						return 32, ok
					case "MessageGroupId":
						s, ok := l.str()
						e.MessageGroupID = &s
						return 64, ok
					}
					return 0, false
				})
			})
		}
		return 0, false
	})
}

func (in *sendMessageInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		var ok bool
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "MessageBody":
			s, ok := l.str()
			in.MessageBody = &s
			return 2, ok
		case "DelaySeconds":
			in.DelaySeconds, ok = l.intPtr()
			return 4, ok
		case "MessageAttributes":
			in.MessageAttributes, ok = l.attrs()
			return 8, ok
		case "MessageSystemAttributes":
			in.MessageSystemAttributes, ok = l.attrs()
			return 16, ok
		case "MessageDeduplicationId":
			s, ok := l.str()
			in.MessageDeduplicationID = &s
			return 32, ok
		case "MessageGroupId":
			s, ok := l.str()
			in.MessageGroupID = &s
			return 64, ok
		}
		return 0, false
	})
}

func (in *receiveMessageInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		var ok bool
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "AttributeNames":
			in.AttributeNames, ok = l.strings()
			return 2, ok
		case "MessageSystemAttributeNames":
			in.MessageSystemAttributeNames, ok = l.strings()
			return 4, ok
		case "MessageAttributeNames":
			in.MessageAttributeNames, ok = l.strings()
			return 8, ok
		case "MaxNumberOfMessages":
			in.MaxNumberOfMessages, ok = l.intIn(&in.ints[0])
			return 16, ok
		case "VisibilityTimeout":
			in.VisibilityTimeout, ok = l.intIn(&in.ints[1])
			return 32, ok
		case "WaitTimeSeconds":
			in.WaitTimeSeconds, ok = l.intIn(&in.ints[2])
			return 64, ok
		case "ReceiveRequestAttemptId":
			in.ReceiveRequestAttemptID, ok = l.str()
			return 128, ok
		}
		return 0, false
	})
}

func (in *deleteMessageInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "ReceiptHandle":
			s, ok := l.str()
			in.ReceiptHandle = &s
			return 2, ok
		}
		return 0, false
	})
}

func (in *deleteMessageBatchInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "Entries":
			in.Entries = make([]deleteBatchEntry, 0, 10)
			return 2, l.array(func() bool {
				in.Entries = append(in.Entries, deleteBatchEntry{})
				e := &in.Entries[len(in.Entries)-1]
				return l.object(func(k []byte) (uint64, bool) {
					var ok bool
					switch string(k) {
					case "Id":
						e.ID, ok = l.str()
						return 1, ok
					case "ReceiptHandle":
						e.ReceiptHandle, ok = l.str()
						return 2, ok
					}
					return 0, false
				})
			})
		}
		return 0, false
	})
}

func (in *changeVisibilityInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "ReceiptHandle":
			s, ok := l.str()
			in.ReceiptHandle = &s
			return 2, ok
		case "VisibilityTimeout":
			var ok bool
			in.VisibilityTimeout, ok = l.intPtr()
			return 4, ok
		}
		return 0, false
	})
}

func (in *changeVisibilityBatchInput) decodeFast(l *lexer) bool {
	return l.object(func(k []byte) (uint64, bool) {
		switch string(k) {
		case "QueueUrl":
			s, ok := l.str()
			in.QueueURL = &s
			return 1, ok
		case "Entries":
			in.Entries = make([]changeVisibilityBatchEntry, 0, 10)
			return 2, l.array(func() bool {
				in.Entries = append(in.Entries, changeVisibilityBatchEntry{})
				e := &in.Entries[len(in.Entries)-1]
				return l.object(func(k []byte) (uint64, bool) {
					var ok bool
					switch string(k) {
					case "Id":
						e.ID, ok = l.str()
						return 1, ok
					case "ReceiptHandle":
						e.ReceiptHandle, ok = l.str()
						return 2, ok
					case "VisibilityTimeout":
						e.VisibilityTimeout, ok = l.intPtr()
						return 4, ok
					}
					return 0, false
				})
			})
		}
		return 0, false
	})
}

// ---- encoders --------------------------------------------------------------

const hexUpper = "0123456789abcdef"

// appendString appends s as a JSON string, as encoding/json does without
// HTML escaping (invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are
// escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !special8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexUpper[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// field appends ,"name": (or "name": first) and the string value.
func appendField(b []byte, first bool, name, value string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendBatchErrors appends ,"Failed":[...] (or "Failed":[...] first) when
// there are failures; SQS leaves an empty list out.
func appendBatchErrors(b []byte, first bool, failed []batchErrorEntry) []byte {
	if len(failed) == 0 {
		return b
	}
	if !first {
		b = append(b, ',')
	}
	b = append(b, `"Failed":[`...)
	for i, f := range failed {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(append(b, '{'), true, "Id", f.ID)
		b = append(b, `,"SenderFault":`...)
		b = strconv.AppendBool(b, f.SenderFault)
		b = appendField(b, false, "Code", f.Code)
		if f.Message != "" {
			b = appendField(b, false, "Message", f.Message)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func (o *sendMessageBatchOutput) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if len(o.Successful) > 0 {
		b = append(b, `"Successful":[`...)
		for i := range o.Successful {
			e := &o.Successful[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(append(b, '{'), true, "Id", e.ID)
			b = appendField(b, false, "MessageId", e.MessageID)
			b = appendField(b, false, "MD5OfMessageBody", e.MD5OfMessageBody)
			if e.MD5OfMessageAttributes != "" {
				b = appendField(b, false, "MD5OfMessageAttributes", e.MD5OfMessageAttributes)
			}
			if e.MD5OfMessageSystemAttributes != "" {
				b = appendField(b, false, "MD5OfMessageSystemAttributes", e.MD5OfMessageSystemAttributes)
			}
			if e.SequenceNumber != "" {
				b = appendField(b, false, "SequenceNumber", e.SequenceNumber)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(appendBatchErrors(b, len(o.Successful) == 0, o.Failed), '}')
}

func (o *batchOutput) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if len(o.Successful) > 0 {
		b = append(b, `"Successful":[`...)
		for i, e := range o.Successful {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendField(append(b, '{'), true, "Id", e.ID), '}')
		}
		b = append(b, ']')
	}
	return append(appendBatchErrors(b, len(o.Successful) == 0, o.Failed), '}')
}

func (o *sendMessageOutput) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for _, f := range [...]struct{ k, v string }{
		{"MD5OfMessageBody", o.MD5OfMessageBody},
		{"MD5OfMessageAttributes", o.MD5OfMessageAttributes},
		{"MD5OfMessageSystemAttributes", o.MD5OfMessageSystemAttributes},
		{"MessageId", o.MessageID},
		{"SequenceNumber", o.SequenceNumber},
	} {
		if f.v != "" {
			b = appendField(b, first, f.k, f.v)
			first = false
		}
	}
	return append(b, '}')
}

func (o *empty) appendJSON(b []byte) []byte { return append(b, "{}"...) }

func (o *receiveMessageOutput) sizeHint() int {
	n := 16
	for i := range o.Messages {
		m := &o.Messages[i]
		n += 72 + len(m.MessageID) + len(m.ReceiptHandle) + len(m.MD5OfBody) + len(m.Body) + len(m.Body)/8
		for k, v := range m.Attributes {
			n += 6 + len(k) + len(v)
		}
		if len(m.MessageAttributes) > 0 {
			n += 64 + len(m.MD5OfMessageAttributes)
			for k, v := range m.MessageAttributes {
				n += 64 + len(k) + len(v.StringValue) + len(v.BinaryValue)*4/3 + len(v.DataType)
			}
		}
	}
	return n
}

func (o *sendMessageBatchOutput) sizeHint() int {
	n := 32 + 200*len(o.Successful)
	for i := range o.Failed {
		n += 64 + len(o.Failed[i].ID) + len(o.Failed[i].Code) + len(o.Failed[i].Message)
	}
	return n
}

func (o *receiveMessageOutput) appendJSON(b []byte) []byte {
	if len(o.Messages) == 0 {
		return append(b, "{}"...)
	}
	b = append(b, `{"Messages":[`...)
	for i := range o.Messages {
		m := &o.Messages[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(append(b, '{'), true, "MessageId", m.MessageID)
		b = appendField(b, false, "ReceiptHandle", m.ReceiptHandle)
		b = appendField(b, false, "MD5OfBody", m.MD5OfBody)
		b = appendField(b, false, "Body", m.Body)
		if len(m.Attributes) > 0 {
			b = append(b, `,"Attributes":{`...)
			first := true
			for k, v := range m.Attributes {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = appendString(b, k)
				b = appendString(append(b, ':'), v)
			}
			b = append(b, '}')
		}
		if m.MD5OfMessageAttributes != "" {
			b = appendField(b, false, "MD5OfMessageAttributes", m.MD5OfMessageAttributes)
		}
		if len(m.MessageAttributes) > 0 {
			b = append(b, `,"MessageAttributes":{`...)
			first := true
			for k, v := range m.MessageAttributes {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(appendString(b, k), ':', '{')
				if v.StringValue != "" {
					b = appendField(b, true, "StringValue", v.StringValue)
					b = append(b, ',')
				}
				if len(v.BinaryValue) > 0 {
					b = append(b, `"BinaryValue":"`...)
					b = base64.StdEncoding.AppendEncode(b, v.BinaryValue)
					b = append(b, '"', ',')
				}
				b = appendField(b, true, "DataType", v.DataType)
				b = append(b, '}')
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
