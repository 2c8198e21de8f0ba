package backend

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// allowedCharsText is how SQS words its set of allowed characters.
const allowedCharsText = "#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]"

// IsFIFOName reports whether name is a FIFO queue's name (ends in ".fifo").
func IsFIFOName(name string) bool {
	return strings.HasSuffix(name, ".fifo")
}

// IsAccountID reports whether s is an AWS account id: exactly 12 digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidateQueueName checks a queue name: 1-80 characters of A-Z, a-z, 0-9,
// '-' and '_', optionally ending in ".fifo" (which counts toward the 80).
// A bad name is InvalidParameterValue.
func ValidateQueueName(name string) *Error {
	base := strings.TrimSuffix(name, ".fifo")
	if len(name) > MaxQueueNameLength || base == "" || !isIDString(base) {
		return NewError(CodeInvalidParameterValue,
			"Value %q for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.", name)
	}
	return nil
}

// isIDString reports whether s consists only of A-Z, a-z, 0-9, '-' and '_'.
func isIDString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// invalidChar finds the first character of s outside SQS's allowed set
// (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF). It
// returns the offending code point (or, for invalid UTF-8, the offending
// byte with utf8Err set) and its byte offset; ok is true when every
// character is allowed.
func invalidChar(s string) (r rune, at int, utf8Err, ok bool) {
	i := 0
	// Eight bytes at a time while all are printable ASCII (0x20-0x7f): a
	// byte below 0x20 borrows into, and a byte of 0x80 or more already has,
	// its top bit.
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		if ((w-0x2020202020202020)|w)&0x8080808080808080 != 0 {
			break
		}
	}
	// ASCII fast path.
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == 0x7f || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		if c < 0x80 {
			return rune(c), i, false, false
		}
		break
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return rune(c), i, false, false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			// Invalid UTF-8, including encoded surrogates, which
			// utf8 rejects.
			return rune(c), i, true, false
		}
		if r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
			return r, i, false, false
		}
		i += size
	}
	return 0, 0, false, true
}

// ValidChars reports whether every character of s is one SQS allows in a
// message body or String attribute value.
func ValidChars(s string) bool {
	_, _, _, ok := invalidChar(s)
	return ok
}

// describeInvalid words the first invalid character of a string.
func describeInvalid(r rune, at int, utf8Err bool) string {
	if utf8Err {
		return "Invalid UTF-8 byte '#x" + strconv.FormatInt(int64(r), 16) + "' at byte " + strconv.Itoa(at)
	}
	return "Invalid binary character '#x" + strings.ToUpper(strconv.FormatInt(int64(r), 16)) + "'"
}

// ValidateBody checks a message body: at least one character
// (MissingParameter otherwise, as SQS reports an empty MessageBody), and
// only the characters SQS allows (InvalidMessageContents otherwise). It does
// not check the size; see ValidateSendEntry.
func ValidateBody(body string) *Error {
	if body == "" {
		return NewError(CodeMissingParameter, "The request must contain the parameter MessageBody.")
	}
	if r, at, utf8Err, ok := invalidChar(body); !ok {
		return NewError(CodeInvalidMessageContents,
			"%s was found in the message body, the set of allowed characters is %s.", describeInvalid(r, at, utf8Err), allowedCharsText)
	}
	return nil
}

// validAttributeNameChars reports whether name is made only of letters
// and digits (SQS takes non-ASCII ones too: "attr.1øßä"), '_', '-' and
// '.', in valid UTF-8.
func validAttributeNameChars(name string) bool {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && n <= 1 || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
		i += n
	}
	return true
}

// hasPrefixFold reports whether s begins with prefix in any casing (prefix
// is ASCII).
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validateAttributeName checks a message attribute name; kind is "(user)"
// or "system".
func validateAttributeName(name, kind string) *Error {
	switch {
	case name == "":
		return NewError(CodeInvalidParameterValue, "The request must contain non-empty message %s attribute names.", kind)
	case utf8.RuneCountInString(name) > MaxAttributeNameLength:
		return NewError(CodeInvalidParameterValue,
			"Message %s attribute name '%s' is %d characters long; it must be at most %d.", kind, name, utf8.RuneCountInString(name), MaxAttributeNameLength)
	case !validAttributeNameChars(name):
		return NewError(CodeInvalidParameterValue,
			"Message %s attribute name '%s' is invalid: it can contain only alphanumeric characters, hyphens (-), underscores (_) and periods (.).", kind, name)
	case hasPrefixFold(name, "AWS.") || hasPrefixFold(name, "Amazon."):
		return NewError(CodeInvalidParameterValue,
			"Message %s attribute name '%s' is invalid: you can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use.", kind, name)
	case name[0] == '.':
		return NewError(CodeInvalidParameterValue, "Message %s attribute name '%s' must not begin with character '.'.", kind, name)
	case name[len(name)-1] == '.':
		return NewError(CodeInvalidParameterValue, "Message %s attribute name '%s' must not end with character '.'.", kind, name)
	case strings.Contains(name, ".."):
		return NewError(CodeInvalidParameterValue, "Message %s attribute name '%s' must not have successive '.' characters.", kind, name)
	}
	return nil
}

// Base data types of message attributes.
const (
	dataTypeString = "String"
	dataTypeNumber = "Number"
	dataTypeBinary = "Binary"
)

// baseDataType returns the logical type of a DataType ("String", "Number"
// or "Binary") or "" when dataType is none of them, optionally followed by
// '.' and a non-empty custom label.
func baseDataType(dataType string) string {
	for _, base := range [...]string{dataTypeString, dataTypeNumber, dataTypeBinary} {
		if dataType == base {
			return base
		}
		if len(dataType) > len(base)+1 && dataType[len(base)] == '.' && dataType[:len(base)] == base {
			return base
		}
	}
	return ""
}

// isBinaryDataType reports whether dataType is Binary or Binary.label. It
// is what picks the transport type of the attribute MD5.
func isBinaryDataType(dataType string) bool {
	return dataType == dataTypeBinary || strings.HasPrefix(dataType, dataTypeBinary+".")
}

// validateAttribute checks one message attribute; kind is "(user)" or
// "system".
func validateAttribute(name string, v *MessageAttributeValue, kind string) *Error {
	if err := validateAttributeName(name, kind); err != nil {
		return err
	}
	if v.DataType == "" {
		return NewError(CodeInvalidParameterValue,
			"The message %s attribute '%s' must contain a non-empty message attribute type.", kind, name)
	}
	if len(v.DataType) > MaxAttributeNameLength {
		return NewError(CodeInvalidParameterValue,
			"The type of message %s attribute '%s' is %d characters long; it must be at most %d.", kind, name, len(v.DataType), MaxAttributeNameLength)
	}
	base := baseDataType(v.DataType)
	if base == "" {
		return NewError(CodeInvalidParameterValue,
			"The type of message %s attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", kind, name)
	}
	if r, at, utf8Err, ok := invalidChar(v.DataType); !ok {
		return NewError(CodeInvalidParameterValue,
			"%s was found in the type of message %s attribute '%s', the set of allowed characters is %s.", describeInvalid(r, at, utf8Err), kind, name, allowedCharsText)
	}
	switch base {
	case dataTypeBinary:
		if len(v.BinaryValue) == 0 {
			return NewError(CodeInvalidParameterValue,
				"Message %s attribute '%s' must contain a non-empty value of type '%s'.", kind, name, v.DataType)
		}
		if v.StringValue != "" {
			return NewError(CodeInvalidParameterValue,
				"Message %s attribute '%s' must have a single value: type '%s' takes only BinaryValue.", kind, name, v.DataType)
		}
	default:
		if v.StringValue == "" {
			return NewError(CodeInvalidParameterValue,
				"Message %s attribute '%s' must contain a non-empty value of type '%s'.", kind, name, v.DataType)
		}
		if len(v.BinaryValue) != 0 {
			return NewError(CodeInvalidParameterValue,
				"Message %s attribute '%s' must have a single value: type '%s' takes only StringValue.", kind, name, v.DataType)
		}
		if r, at, utf8Err, ok := invalidChar(v.StringValue); !ok {
			return NewError(CodeInvalidParameterValue,
				"%s was found in the value of message %s attribute '%s', the set of allowed characters is %s.", describeInvalid(r, at, utf8Err), kind, name, allowedCharsText)
		}
		if base == dataTypeNumber && !IsValidNumber(v.StringValue) {
			return NewError(CodeInvalidParameterValue,
				"Can't cast the value of message %s attribute '%s' to a number: %q is not a number of at most 38 significant digits between 10^-128 and 10^126.", kind, name, v.StringValue)
		}
	}
	return nil
}

// firstError keeps, of several invalid attributes, the one whose name sorts
// first, so that a map's random order cannot change which error is
// reported.
func firstError(best *Error, bestName string, err *Error, name string) (*Error, string) {
	if err == nil || best != nil && bestName <= name {
		return best, bestName
	}
	return err, name
}

// ValidateMessageAttributes checks a message's user attributes against
// SQS's rules: at most 10; names of 1-256 characters of A-Z, a-z, 0-9, '_',
// '-' and '.', not beginning with "AWS." or "Amazon." in any casing, not
// beginning or ending with '.', without ".."; a DataType of at most 256
// characters that is String, Number or Binary, optionally followed by '.'
// and a custom label; a non-empty StringValue for String and Number types
// (with the body's character rules; for Number, a number as SQS defines
// it, see IsValidNumber) and a non-empty BinaryValue for Binary types.
// Every failure is InvalidParameterValue. When several attributes are
// invalid, the error names the one whose name sorts first.
func ValidateMessageAttributes(attrs map[string]MessageAttributeValue) *Error {
	if len(attrs) > MaxMessageAttributes {
		return NewError(CodeInvalidParameterValue,
			"Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), MaxMessageAttributes)
	}
	var best *Error
	var bestName string
	for name, v := range attrs {
		best, bestName = firstError(best, bestName, validateAttribute(name, &v, "(user)"), name)
	}
	return best
}

// awsTraceHeader is the one message system attribute a sender may set.
const awsTraceHeader = "AWSTraceHeader"

// ValidateSystemAttributes checks a message's system attributes: only
// "AWSTraceHeader", of DataType String, with a non-empty value. Failures
// are InvalidParameterValue.
func ValidateSystemAttributes(attrs map[string]MessageAttributeValue) *Error {
	var best *Error
	var bestName string
	for name, v := range attrs {
		var err *Error
		switch {
		case name != awsTraceHeader:
			err = NewError(CodeInvalidParameterValue,
				"Message system attribute name '%s' is invalid. The only supported message system attribute is 'AWSTraceHeader'.", name)
		case v.DataType != dataTypeString:
			err = NewError(CodeInvalidParameterValue,
				"Message system attribute 'AWSTraceHeader' has type '%s'; its type must be 'String'.", v.DataType)
		default:
			err = validateAttribute(name, &v, "system")
		}
		best, bestName = firstError(best, bestName, err, name)
	}
	return best
}

// IsValidNumber reports whether s is a Number attribute value as SQS
// defines one: an optionally signed decimal, with optional fraction and
// exponent ("-1", "3.14", ".5", "6.02e23", "1E-7"), of at most 38
// significant digits (leading and trailing zeros do not count), whose
// magnitude is 0 or between 10^-128 and 10^126.
func IsValidNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	// Mantissa: digits, optional '.', digits; at least one digit.
	digits := 0    // digits of the mantissa
	sig := 0       // significant digits, leading zeros dropped, trailing zeros kept so far
	trailZero := 0 // zeros at the end of the significant run
	intDigits := 0 // significant digits before the point
	leadFrac := 0  // zeros after the point before the first significant digit (when no significant integer digit)
	seenPoint := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if seenPoint {
				return false
			}
			seenPoint = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		digits++
		if c == '0' && sig == 0 {
			if seenPoint {
				leadFrac++
			}
			continue
		}
		sig++
		if !seenPoint {
			intDigits++
		}
		if c == '0' {
			trailZero++
		} else {
			trailZero = 0
		}
	}
	if digits == 0 {
		return false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if exp < 1_000_000 {
				exp = exp*10 + int(s[i]-'0')
			}
		}
		if i == start {
			return false
		}
		if neg {
			exp = -exp
		}
	}
	if i != len(s) {
		return false
	}
	if sig == 0 {
		return true // zero
	}
	if sig-trailZero > 38 {
		return false
	}
	// The value is d.ddd × 10^mag.
	var mag int
	if intDigits > 0 {
		mag = intDigits - 1 + exp
	} else {
		mag = -(leadFrac + 1) + exp
	}
	return mag >= -128 && mag < 126
}

// MessageSize returns the size SQS counts against MaximumMessageSize: the
// UTF-8 bytes of the body plus, for each attribute, the bytes of its name,
// its DataType and its value. System attributes do not count.
func MessageSize(body string, attrs map[string]MessageAttributeValue) int {
	n := len(body)
	for name, v := range attrs {
		n += len(name) + len(v.DataType) + len(v.StringValue) + len(v.BinaryValue)
	}
	return n
}

// validCharsetID reports whether s is made of the characters SQS allows in
// MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId:
// alphanumerics and the punctuation !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~.
func validCharsetID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// validateToken checks a MessageGroupId, MessageDeduplicationId or
// ReceiveRequestAttemptId that was given.
func validateToken(param, v string, maxLen int) *Error {
	if len(v) > maxLen {
		return NewError(CodeInvalidParameterValue,
			"Value %s for parameter %s is invalid. Reason: %s can be at most %d characters long.", v, param, param, maxLen)
	}
	if v == "" || !validCharsetID(v) {
		return NewError(CodeInvalidParameterValue,
			"Value %s for parameter %s is invalid. Reason: %s can only include alphanumeric and punctuation characters. 1 to %d in length.", v, param, param, maxLen)
	}
	return nil
}

// ValidateSendEntry checks one message to send, in SQS's order: the body,
// the message attributes, the system attributes, the size (body plus
// message attributes, at most maxMessageSize bytes; 0 means MaxMessageSize),
// DelaySeconds (0-900 when set), and MessageGroupId and
// MessageDeduplicationId when given (1-128 characters of alphanumerics and
// punctuation: given but empty is InvalidParameterValue, on any queue). It does not apply the FIFO rules (group id required, no
// per-message delay); the queue does.
func ValidateSendEntry(e *SendEntry, maxMessageSize int) *Error {
	if maxMessageSize <= 0 {
		maxMessageSize = MaxMessageSize
	}
	if err := ValidateBody(e.Body); err != nil {
		return err
	}
	if len(e.MessageAttributes) > 0 {
		if err := ValidateMessageAttributes(e.MessageAttributes); err != nil {
			return err
		}
	}
	if len(e.MessageSystemAttributes) > 0 {
		if err := ValidateSystemAttributes(e.MessageSystemAttributes); err != nil {
			return err
		}
	}
	if size := MessageSize(e.Body, e.MessageAttributes); size > maxMessageSize {
		// SQS's words for a batch entry; SendMessage says "are invalid".
		err := NewError(CodeInvalidParameterValue,
			"One or more parameters cannot be validated. Reason: Message must be shorter than %d bytes.", maxMessageSize)
		err.SingleMessage = fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxMessageSize)
		return err
	}
	if e.DelaySeconds != nil {
		if d := *e.DelaySeconds; d < 0 || d > MaxDelaySeconds {
			return NewError(CodeInvalidParameterValue,
				"Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= %d.", d, MaxDelaySeconds)
		}
	}
	if e.MessageGroupID != "" || e.MessageGroupIDSet {
		if err := validateToken("MessageGroupId", e.MessageGroupID, MaxGroupIDLength); err != nil {
			return err
		}
	}
	if e.MessageDeduplicationID != "" || e.MessageDeduplicationIDSet {
		if err := validateToken("MessageDeduplicationId", e.MessageDeduplicationID, MaxDeduplicationIDLength); err != nil {
			return err
		}
	}
	return nil
}

// ValidateBatchIDs checks the entry ids of a batch request, in SQS's
// order: none is EmptyBatchRequest; more than 10 is
// TooManyEntriesInBatchRequest; an id that is not 1-80 characters of
// alphanumerics, '-' and '_' is InvalidBatchEntryId; an id that repeats is
// BatchEntryIdsNotDistinct. It does not allocate for batches of up to 10.
func ValidateBatchIDs(ids []string) *Error {
	switch {
	case len(ids) == 0:
		return NewError(CodeEmptyBatchRequest, "There should be at least one batch request entry in the request.")
	case len(ids) > MaxBatchEntries:
		return NewError(CodeTooManyEntriesInBatchRequest,
			"Maximum number of entries per request are %d. You have sent %d.", MaxBatchEntries, len(ids))
	}
	for _, id := range ids {
		if id == "" || len(id) > MaxBatchEntryIDLength || !isIDString(id) {
			return NewError(CodeInvalidBatchEntryID,
				"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most %d letters long.", MaxBatchEntryIDLength)
		}
	}
	for i := 1; i < len(ids); i++ {
		for j := 0; j < i; j++ {
			if ids[i] == ids[j] {
				return NewError(CodeBatchEntryIdsNotDistinct, "Id %s repeated.", ids[i])
			}
		}
	}
	return nil
}

// ValidateSendBatchSize checks the total size of a SendMessageBatch: the
// sum of the entries' MessageSize must not exceed MaxMessageSize
// (BatchRequestTooLong otherwise).
func ValidateSendBatchSize(entries []SendEntry) *Error {
	total := 0
	for i := range entries {
		total += MessageSize(entries[i].Body, entries[i].MessageAttributes)
	}
	if total > MaxMessageSize {
		return NewError(CodeBatchRequestTooLong,
			"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", MaxMessageSize, total)
	}
	return nil
}

// receiveOnlyNames are names a ReceiveMessage request may carry in
// AttributeNames besides SystemAttributeNames: SqsManagedSseEnabled is
// listed in its documentation.
var receiveOnlyNames = []string{"SqsManagedSseEnabled"}

// isKnownSystemAttributeName reports whether a receive may ask for name.
func isKnownSystemAttributeName(name string) bool {
	for _, n := range SystemAttributeNames {
		if n == name {
			return true
		}
	}
	for _, n := range receiveOnlyNames {
		if n == name {
			return true
		}
	}
	return false
}

// ValidateReceiveRequest checks a receive: MaxMessages 0 (meaning 1) or
// 1-10, WaitTimeSeconds 0-20 and VisibilityTimeout 0-43,200 when set
// (InvalidParameterValue otherwise); ReceiveRequestAttemptId of at most 128
// alphanumerics and punctuation when set (InvalidParameterValue);
// SystemAttributeNames each a known name (InvalidAttributeName otherwise).
// MessageAttributeNames are not checked: as in SQS, a name that no
// attribute can have selects nothing (see SelectMessageAttributes).
func ValidateReceiveRequest(req *ReceiveRequest) *Error {
	if req.MaxMessages < 0 || req.MaxMessages > MaxReceiveMessages {
		return NewError(CodeInvalidParameterValue,
			"Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and %d, if provided.", req.MaxMessages, MaxReceiveMessages)
	}
	if req.WaitTimeSeconds != nil {
		if w := *req.WaitTimeSeconds; w < 0 || w > MaxWaitTimeSeconds {
			return NewError(CodeInvalidParameterValue,
				"Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d, if provided.", w, MaxWaitTimeSeconds)
		}
	}
	if req.VisibilityTimeout != nil {
		if v := *req.VisibilityTimeout; v < 0 || v > MaxVisibilityTimeout {
			return NewError(CodeInvalidParameterValue,
				"Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", v, MaxVisibilityTimeout)
		}
	}
	if req.ReceiveRequestAttemptID != "" {
		if err := validateToken("ReceiveRequestAttemptId", req.ReceiveRequestAttemptID, MaxAttemptIDLength); err != nil {
			return err
		}
	}
	for _, name := range req.SystemAttributeNames {
		if !isKnownSystemAttributeName(name) {
			return NewError(CodeInvalidAttributeName, "Unknown Attribute %s.", name)
		}
	}
	return nil
}

// ValidateVisibilityTimeout checks a visibility timeout in seconds: 0 to
// 43,200 (InvalidParameterValue otherwise).
func ValidateVisibilityTimeout(seconds int) *Error {
	if seconds < 0 || seconds > MaxVisibilityTimeout {
		return NewError(CodeInvalidParameterValue,
			"Value %d for parameter VisibilityTimeout is invalid. Reason: VisibilityTimeout must be an integer between 0 and %d.", seconds, MaxVisibilityTimeout)
	}
	return nil
}

// validateTagKey checks one tag key: 1-128 characters, not beginning with
// "aws:" (reserved for AWS).
func validateTagKey(key string) *Error {
	n := utf8.RuneCountInString(key)
	switch {
	case n == 0:
		return NewError(CodeInvalidParameterValue, "Tag keys must be between 1 and %d characters in length.", MaxTagKeyLength)
	case n > MaxTagKeyLength:
		return NewError(CodeInvalidParameterValue,
			"Tag key %q is %d characters long. Tag keys must be between 1 and %d characters in length.", key, n, MaxTagKeyLength)
	case hasPrefixFold(key, "aws:"):
		return NewError(CodeInvalidParameterValue,
			"Tag key %q is invalid: the prefix 'aws:' is reserved for use by AWS.", key)
	}
	return nil
}

// ValidateTags checks the tags of one TagQueue or CreateQueue call: at most
// 50 tags; keys of 1-128 characters not beginning with "aws:"; values of
// 0-256 characters. Failures are InvalidParameterValue. The total after
// merging with a queue's existing tags is the queue's to check. When several
// tags are invalid, the error names the key that sorts first.
func ValidateTags(tags map[string]string) *Error {
	if len(tags) > MaxTags {
		return NewError(CodeInvalidParameterValue,
			"Too many tags added for queue: %d tags were given; a queue can have at most %d.", len(tags), MaxTags)
	}
	var best *Error
	var bestKey string
	for k, v := range tags {
		err := validateTagKey(k)
		if err == nil {
			if n := utf8.RuneCountInString(v); n > MaxTagValueLength {
				err = NewError(CodeInvalidParameterValue,
					"The value of tag %q is %d characters long. Tag values can be at most %d characters in length.", k, n, MaxTagValueLength)
			}
		}
		best, bestKey = firstError(best, bestKey, err, k)
	}
	return best
}

// ValidateTagKeys checks the keys of an UntagQueue call: each 1-128
// characters, not beginning with "aws:" (InvalidParameterValue otherwise).
func ValidateTagKeys(keys []string) *Error {
	for _, k := range keys {
		if err := validateTagKey(k); err != nil {
			return err
		}
	}
	return nil
}
