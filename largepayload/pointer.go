package largepayload

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/postbox-go/postbox/backend"
)

// The wire format of the Amazon SQS Extended Client Libraries (Java
// amazon-sqs-java-extended-client-lib, Python
// amazon-sqs-python-extended-client-lib): a message whose payload lives in
// S3 has the body [PointerClass, {"s3BucketName": ..., "s3Key": ...}] and
// the Number message attribute SizeAttribute with the payload's size in
// bytes.
const (
	// PointerClass is the pointer's class name, written by the Java
	// client 2.x and the Python client.
	PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"
	// LegacyPointerClass is the class name of the Java client 1.x.
	LegacyPointerClass = "com.amazon.sqs.javamessaging.MessageS3Pointer"
	// SizeAttribute is the message attribute that marks a pointer and
	// holds the payload's size.
	SizeAttribute = "ExtendedPayloadSize"
	// LegacySizeAttribute is the same attribute as the Java client 1.x
	// (and the Python client with use_legacy_attribute) names it.
	LegacySizeAttribute = "SQSLargePayloadSize"
)

// ErrBadPointer is matched (errors.Is) by the error of a message that is
// marked as a pointer (SizeAttribute) but whose body is not one.
var ErrBadPointer = errors.New("largepayload: malformed payload pointer")

// Pointer names a payload in a store: an S3 bucket and key.
type Pointer struct {
	Bucket string
	Key    string
}

// String returns the pointer as an s3:// URL.
func (p Pointer) String() string { return "s3://" + p.Bucket + "/" + p.Key }

type s3Pointer struct {
	S3BucketName string `json:"s3BucketName"`
	S3Key        string `json:"s3Key"`
}

// Body returns the message body that carries p, byte for byte as the Java
// client 2.x writes it (Jackson, no spaces):
// ["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}].
// With legacy, the class is LegacyPointerClass.
func (p Pointer) Body(legacy bool) string {
	class := PointerClass
	if legacy {
		class = LegacyPointerClass
	}
	b, _ := json.Marshal([]any{class, s3Pointer{S3BucketName: p.Bucket, S3Key: p.Key}})
	return string(b)
}

// ParsePointer reads a pointer body as either client writes it (Java's
// compact JSON, Python's json.dumps with spaces; either class name). The
// error matches ErrBadPointer.
func ParsePointer(body string) (Pointer, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal([]byte(body), &parts); err != nil || len(parts) != 2 {
		return Pointer{}, fmt.Errorf("%w: the body is not a two-element JSON array", ErrBadPointer)
	}
	var class string
	if err := json.Unmarshal(parts[0], &class); err != nil || (class != PointerClass && class != LegacyPointerClass) {
		return Pointer{}, fmt.Errorf("%w: unknown pointer class %s", ErrBadPointer, parts[0])
	}
	var sp s3Pointer
	if err := json.Unmarshal(parts[1], &sp); err != nil || sp.S3BucketName == "" || sp.S3Key == "" {
		return Pointer{}, fmt.Errorf("%w: no s3BucketName or s3Key", ErrBadPointer)
	}
	return Pointer{Bucket: sp.S3BucketName, Key: sp.S3Key}, nil
}

// PayloadSize returns the payload size that attrs declare (SizeAttribute,
// or LegacySizeAttribute), and whether they mark a pointer at all. A
// marked message whose size does not parse has size -1.
func PayloadSize(attrs map[string]backend.MessageAttributeValue) (size int64, marked bool) {
	v, ok := attrs[SizeAttribute]
	if !ok {
		v, ok = attrs[LegacySizeAttribute]
	}
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.StringValue, 10, 64)
	if err != nil || n < 0 {
		return -1, true
	}
	return n, true
}
