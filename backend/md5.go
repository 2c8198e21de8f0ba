package backend

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"unsafe"
)

// MD5OfBody returns the lowercase hex MD5 digest of the UTF-8 body, as SQS
// reports it in MD5OfMessageBody.
func MD5OfBody(body string) string {
	sum := md5.Sum(stringBytes(body))
	return hex.EncodeToString(sum[:])
}

// stringBytes returns the bytes of s without copying them. The result must
// not be modified; the hashes it is given only read it.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// Transport types of SQS's message attribute digest encoding.
const (
	transportString = 1 // String and Number data types, custom ones included
	transportBinary = 2 // Binary data types
)

// MD5OfMessageAttributes returns the lowercase hex MD5 digest that SQS
// reports in MD5OfMessageAttributes (and, over system attributes, in
// MD5OfMessageSystemAttributes), or "" when attrs is empty. The AWS SDKs
// that verify it compute the same digest: over the attributes sorted by
// name, each encoded as the 4-byte big-endian length and bytes of its name,
// the same of its DataType, one transport byte (1 for String and Number
// types, 2 for Binary types), and the 4-byte length and bytes of its
// value.
func MD5OfMessageAttributes(attrs map[string]MessageAttributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	var stack [MaxMessageAttributes]string
	names := stack[:0]
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	h := md5.New()
	var buf [4]byte
	writeLen := func(n int) {
		buf[0], buf[1], buf[2], buf[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		h.Write(buf[:])
	}
	writeString := func(s string) {
		writeLen(len(s))
		h.Write(stringBytes(s))
	}
	for _, name := range names {
		v := attrs[name]
		writeString(name)
		writeString(v.DataType)
		if isBinaryDataType(v.DataType) {
			buf[0] = transportBinary
			h.Write(buf[:1])
			writeLen(len(v.BinaryValue))
			h.Write(v.BinaryValue)
		} else {
			buf[0] = transportString
			h.Write(buf[:1])
			writeString(v.StringValue)
		}
	}
	var sum [md5.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}
