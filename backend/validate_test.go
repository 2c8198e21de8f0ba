package backend

import (
	"strings"
	"testing"
)

// wantCode fails t unless err carries code ("" for no error).
func wantCode(t *testing.T, what string, err *Error, code string) {
	t.Helper()
	switch {
	case code == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case code != "" && err == nil:
		t.Errorf("%s: got no error, want %s", what, code)
	case code != "" && err.Code != code:
		t.Errorf("%s: got %v, want code %s", what, err, code)
	case err != nil && (err.Message == "" || !err.SenderFault):
		t.Errorf("%s: error %#v lacks a message or sender fault", what, err)
	}
}

func TestLimits(t *testing.T) {
	// The numbers of the SQS API Reference and Developer Guide quotas.
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"MaxMessageSize", MaxMessageSize, 1 << 20},
		{"MinMaximumMessageSize", MinMaximumMessageSize, 1024},
		{"MaxDelaySeconds", MaxDelaySeconds, 15 * 60},
		{"MaxVisibilityTimeout", MaxVisibilityTimeout, 12 * 60 * 60},
		{"MaxWaitTimeSeconds", MaxWaitTimeSeconds, 20},
		{"MaxReceiveMessages", MaxReceiveMessages, 10},
		{"MinRetentionPeriod", MinRetentionPeriod, 60},
		{"MaxRetentionPeriod", MaxRetentionPeriod, 14 * 24 * 60 * 60},
		{"DefaultRetentionPeriod", DefaultRetentionPeriod, 4 * 24 * 60 * 60},
		{"DefaultVisibilityTimeout", DefaultVisibilityTimeout, 30},
		{"MaxMessageAttributes", MaxMessageAttributes, 10},
		{"MaxBatchEntries", MaxBatchEntries, 10},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestIsFIFOName(t *testing.T) {
	for name, want := range map[string]bool{
		"q.fifo": true, ".fifo": true, "q": false, "q.FIFO": false, "qfifo": false, "q.fifo.x": false,
	} {
		if got := IsFIFOName(name); got != want {
			t.Errorf("IsFIFOName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValidateQueueName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"q", true},
		{"My-Queue_1", true},
		{strings.Repeat("a", 80), true},
		{strings.Repeat("a", 81), false},
		{strings.Repeat("a", 75) + ".fifo", true},
		{strings.Repeat("a", 76) + ".fifo", false},
		{"q.fifo", true},
		{"", false},
		{".fifo", false},
		{"a.b", false},
		{"a b", false},
		{"a/b", false},
		{"q.fifo.fifo", false},
		{"q.FIFO", false},
		{"héllo", false},
		{"a\x00", false},
	} {
		code := CodeInvalidParameterValue
		if tc.ok {
			code = ""
		}
		wantCode(t, "ValidateQueueName("+tc.name+")", ValidateQueueName(tc.name), code)
	}
}

func TestValidateBody(t *testing.T) {
	for _, tc := range []struct {
		name, body, code string
	}{
		{"empty", "", CodeMissingParameter},
		{"ascii", "hello world", ""},
		{"tab lf cr", "\t\n\r", ""},
		{"space", " ", ""},
		{"DEL", "\x7f", ""},
		{"json", `{"a":[1,2,"x"]}`, ""},
		{"NUL", "a\x00b", CodeInvalidMessageContents},
		{"x01", "\x01", CodeInvalidMessageContents},
		{"x08", "\x08", CodeInvalidMessageContents},
		{"vertical tab", "\x0b", CodeInvalidMessageContents},
		{"form feed", "\x0c", CodeInvalidMessageContents},
		{"x0E", "\x0e", CodeInvalidMessageContents},
		{"x1F", "\x1f", CodeInvalidMessageContents},
		{"U+0080", "\u0080", ""},
		{"U+D7FF", "\ud7ff", ""},
		{"U+E000", "\ue000", ""},
		{"U+FFFD", "\ufffd", ""},
		{"U+FFFE", "\ufffe", CodeInvalidMessageContents},
		{"U+FFFF", "\uffff", CodeInvalidMessageContents},
		{"U+10000", "\U00010000", ""},
		{"U+10FFFF", "\U0010ffff", ""},
		{"emoji", "hi \U0001F600", ""},
		{"control after non-ASCII", "é\x01", CodeInvalidMessageContents},
		// Surrogates cannot be encoded in valid UTF-8; their CESU-style
		// encodings are invalid UTF-8.
		{"high surrogate bytes", "\xed\xa0\x80", CodeInvalidMessageContents},
		{"low surrogate bytes", "\xed\xbf\xbf", CodeInvalidMessageContents},
		{"lone continuation byte", "a\x80", CodeInvalidMessageContents},
		{"truncated sequence", "\xe2\x82", CodeInvalidMessageContents},
		{"overlong", "\xc0\xaf", CodeInvalidMessageContents},
		{"invalid byte", "\xff", CodeInvalidMessageContents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateBody(tc.body)
			wantCode(t, "ValidateBody", err, tc.code)
			if tc.code == CodeInvalidMessageContents && !strings.Contains(err.Message, "the set of allowed characters is") {
				t.Errorf("message %q does not name the allowed set", err.Message)
			}
		})
	}
	// The message names the offending character as SQS does.
	if err := ValidateBody("ok\uffff"); err == nil || !strings.HasPrefix(err.Message, "Invalid binary character '#xFFFF' was found in the message body") {
		t.Errorf("ValidateBody: %v", err)
	}
	if err := ValidateBody("\x07"); err == nil || !strings.Contains(err.Message, "'#x7'") {
		t.Errorf("ValidateBody: %v", err)
	}
}

func TestValidateBodyAllocations(t *testing.T) {
	body := strings.Repeat("hello, world ", 20) + "é\U0001F600"
	if n := testing.AllocsPerRun(100, func() { _ = ValidateBody(body) }); n != 0 {
		t.Errorf("ValidateBody allocates %v times on valid input", n)
	}
}

func str(v string) MessageAttributeValue {
	return MessageAttributeValue{DataType: "String", StringValue: v}
}

func TestValidateMessageAttributes(t *testing.T) {
	ok := str("v")
	tenAttrs := map[string]MessageAttributeValue{}
	for i := range 10 {
		tenAttrs[string(rune('a'+i))] = ok
	}
	elevenAttrs := map[string]MessageAttributeValue{"k": ok}
	for k, v := range tenAttrs {
		elevenAttrs[k] = v
	}
	for _, tc := range []struct {
		name  string
		attrs map[string]MessageAttributeValue
		code  string
		msg   string // a part of the message, when set
	}{
		{"nil", nil, "", ""},
		{"ten", tenAttrs, "", ""},
		{"eleven", elevenAttrs, CodeInvalidParameterValue, "Number of message attributes [11] exceeds the allowed maximum [10]."},
		// Names.
		{"name chars", map[string]MessageAttributeValue{"Az09_-.x": ok}, "", ""},
		{"empty name", map[string]MessageAttributeValue{"": ok}, CodeInvalidParameterValue, "non-empty"},
		{"name 256", map[string]MessageAttributeValue{strings.Repeat("n", 256): ok}, "", ""},
		{"name 257", map[string]MessageAttributeValue{strings.Repeat("n", 257): ok}, CodeInvalidParameterValue, "257"},
		{"name space", map[string]MessageAttributeValue{"a b": ok}, CodeInvalidParameterValue, "'a b'"},
		{"name slash", map[string]MessageAttributeValue{"a/b": ok}, CodeInvalidParameterValue, ""},
		{"name colon", map[string]MessageAttributeValue{"a:b": ok}, CodeInvalidParameterValue, ""},
		// Real SQS takes non-ASCII letters (recorded for issue 19).
		{"name non-ASCII letters", map[string]MessageAttributeValue{"attr.1øßä": ok}, "", ""},
		{"name 256 non-ASCII letters", map[string]MessageAttributeValue{strings.Repeat("ø", 256): ok}, "", ""},
		{"name 257 non-ASCII letters", map[string]MessageAttributeValue{strings.Repeat("ø", 257): ok}, CodeInvalidParameterValue, "257"},
		{"name non-ASCII symbol", map[string]MessageAttributeValue{"a€": ok}, CodeInvalidParameterValue, ""},
		{"name not UTF-8", map[string]MessageAttributeValue{"a\xff": ok}, CodeInvalidParameterValue, ""},
		{"AWS.", map[string]MessageAttributeValue{"AWS.x": ok}, CodeInvalidParameterValue, "reserved"},
		{"aws.", map[string]MessageAttributeValue{"aws.x": ok}, CodeInvalidParameterValue, "reserved"},
		{"aWs.", map[string]MessageAttributeValue{"aWs.x": ok}, CodeInvalidParameterValue, "reserved"},
		{"Amazon.", map[string]MessageAttributeValue{"Amazon.x": ok}, CodeInvalidParameterValue, "reserved"},
		{"AMAZON.", map[string]MessageAttributeValue{"AMAZON.x": ok}, CodeInvalidParameterValue, "reserved"},
		{"amAzOn.", map[string]MessageAttributeValue{"amAzOn.x": ok}, CodeInvalidParameterValue, "reserved"},
		{"AWS without dot", map[string]MessageAttributeValue{"AWSx": ok}, "", ""},
		{"AWS- prefix", map[string]MessageAttributeValue{"AWS-x": ok}, "", ""},
		{"Amazonian", map[string]MessageAttributeValue{"Amazonian": ok}, "", ""},
		{"x.AWS.y", map[string]MessageAttributeValue{"x.AWS.y": ok}, "", ""},
		{"leading dot", map[string]MessageAttributeValue{".a": ok}, CodeInvalidParameterValue, "begin"},
		{"trailing dot", map[string]MessageAttributeValue{"a.": ok}, CodeInvalidParameterValue, "end"},
		{"double dot", map[string]MessageAttributeValue{"a..b": ok}, CodeInvalidParameterValue, "successive"},
		{"single dots", map[string]MessageAttributeValue{"a.b.c": ok}, "", ""},
		// Data types.
		{"String", map[string]MessageAttributeValue{"a": {DataType: "String", StringValue: "x"}}, "", ""},
		{"Number", map[string]MessageAttributeValue{"a": {DataType: "Number", StringValue: "1"}}, "", ""},
		{"Binary", map[string]MessageAttributeValue{"a": {DataType: "Binary", BinaryValue: []byte{0}}}, "", ""},
		{"String.custom", map[string]MessageAttributeValue{"a": {DataType: "String.custom", StringValue: "x"}}, "", ""},
		{"Number.int", map[string]MessageAttributeValue{"a": {DataType: "Number.int", StringValue: "1"}}, "", ""},
		{"Binary.png", map[string]MessageAttributeValue{"a": {DataType: "Binary.png", BinaryValue: []byte{1}}}, "", ""},
		{"custom label with spaces", map[string]MessageAttributeValue{"a": {DataType: "String.my label ü", StringValue: "x"}}, "", ""},
		{"empty type", map[string]MessageAttributeValue{"a": {StringValue: "x"}}, CodeInvalidParameterValue, "non-empty message attribute type"},
		{"lowercase type", map[string]MessageAttributeValue{"a": {DataType: "string", StringValue: "x"}}, CodeInvalidParameterValue, "supported type prefixes"},
		{"unknown type", map[string]MessageAttributeValue{"a": {DataType: "Text", StringValue: "x"}}, CodeInvalidParameterValue, "supported type prefixes"},
		{"StringList", map[string]MessageAttributeValue{"a": {DataType: "StringList", StringValue: "x"}}, CodeInvalidParameterValue, "supported type prefixes"},
		{"empty label", map[string]MessageAttributeValue{"a": {DataType: "String.", StringValue: "x"}}, CodeInvalidParameterValue, "supported type prefixes"},
		{"type 256", map[string]MessageAttributeValue{"a": {DataType: "String." + strings.Repeat("t", 249), StringValue: "x"}}, "", ""},
		{"type 257", map[string]MessageAttributeValue{"a": {DataType: "String." + strings.Repeat("t", 250), StringValue: "x"}}, CodeInvalidParameterValue, "257"},
		{"type control char", map[string]MessageAttributeValue{"a": {DataType: "String.\x01", StringValue: "x"}}, CodeInvalidParameterValue, "#x1"},
		// Values.
		{"empty string", map[string]MessageAttributeValue{"a": {DataType: "String"}}, CodeInvalidParameterValue, "must contain a non-empty value of type 'String'"},
		{"empty number", map[string]MessageAttributeValue{"a": {DataType: "Number"}}, CodeInvalidParameterValue, "type 'Number'"},
		{"empty binary", map[string]MessageAttributeValue{"a": {DataType: "Binary", BinaryValue: []byte{}}}, CodeInvalidParameterValue, "type 'Binary'"},
		{"binary with string", map[string]MessageAttributeValue{"a": {DataType: "Binary", StringValue: "x"}}, CodeInvalidParameterValue, ""},
		{"binary both", map[string]MessageAttributeValue{"a": {DataType: "Binary", StringValue: "x", BinaryValue: []byte{1}}}, CodeInvalidParameterValue, "single value"},
		{"string both", map[string]MessageAttributeValue{"a": {DataType: "String", StringValue: "x", BinaryValue: []byte{1}}}, CodeInvalidParameterValue, "single value"},
		{"string control char", map[string]MessageAttributeValue{"a": str("x\x00")}, CodeInvalidParameterValue, "#x0"},
		{"string U+FFFF", map[string]MessageAttributeValue{"a": str("\uffff")}, CodeInvalidParameterValue, "#xFFFF"},
		{"string invalid UTF-8", map[string]MessageAttributeValue{"a": str("\xed\xa0\x80")}, CodeInvalidParameterValue, "UTF-8"},
		{"string unicode", map[string]MessageAttributeValue{"a": str("ü \U0001F600\t")}, "", ""},
		{"binary any bytes", map[string]MessageAttributeValue{"a": {DataType: "Binary", BinaryValue: []byte{0, 0xff, 0xfe}}}, "", ""},
		{"number not a number", map[string]MessageAttributeValue{"a": {DataType: "Number", StringValue: "abc"}}, CodeInvalidParameterValue, "Can't cast the value of message (user) attribute 'a' to a number"},
		{"custom number checked", map[string]MessageAttributeValue{"a": {DataType: "Number.float", StringValue: "1.2.3"}}, CodeInvalidParameterValue, "number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateMessageAttributes(tc.attrs)
			wantCode(t, "ValidateMessageAttributes", err, tc.code)
			if err != nil && tc.msg != "" && !strings.Contains(err.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", err.Message, tc.msg)
			}
		})
	}
}

func TestValidateMessageAttributesDeterministic(t *testing.T) {
	// Of several bad attributes, the error always names the first by name.
	attrs := map[string]MessageAttributeValue{
		"zz": {DataType: "Nope", StringValue: "x"},
		"mm": {DataType: "String"},
		"bb": {DataType: "Number", StringValue: "x"},
		"aa": str("fine"),
	}
	for range 50 {
		err := ValidateMessageAttributes(attrs)
		if err == nil || !strings.Contains(err.Message, "'bb'") {
			t.Fatalf("got %v, want the error about 'bb'", err)
		}
	}
}

func TestIsValidNumber(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"0", true}, {"1", true}, {"-1", true}, {"+1", true}, {"3.14", true}, {".5", true}, {"5.", true},
		{"-0.0", true}, {"1e5", true}, {"1E5", true}, {"1e+5", true}, {"1e-5", true}, {"000123", true},
		{"12345678901234567890123456789012345678", true},      // 38 digits
		{"123456789012345678901234567890123456789", false},    // 39 digits
		{"1234567890123456789012345678901234567800000", true}, // 38 significant digits, trailing zeros trimmed
		{"0.00012345678901234567890123456789012345678", true}, // leading zeros trimmed
		{"1.23456789012345678901234567890123456789", false},   // 39 significant
		{"1e125", true}, {"9.99e125", true}, {"1e126", false}, // magnitude below 10^126
		{"1e-128", true}, {"1e-129", false}, {"0.1e-127", true}, // at least 10^-128
		{"100e123", true}, {"1000e123", false}, {"0e999999", true}, // zero in any form
		{"", false}, {"-", false}, {"+", false}, {".", false}, {"e5", false}, {"1e", false}, {"1e+", false},
		{"1.2.3", false}, {"1,000", false}, {" 1", false}, {"1 ", false}, {"0x10", false}, {"NaN", false},
		{"Infinity", false}, {"--1", false}, {"1e5.5", false}, {"١", false},
		{"1e99999999999999999999", false}, {"1e-99999999999999999999", false},
	} {
		if got := IsValidNumber(tc.s); got != tc.ok {
			t.Errorf("IsValidNumber(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}

func TestValidateSystemAttributes(t *testing.T) {
	trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
	for _, tc := range []struct {
		name  string
		attrs map[string]MessageAttributeValue
		code  string
	}{
		{"nil", nil, ""},
		{"trace header", map[string]MessageAttributeValue{"AWSTraceHeader": str(trace)}, ""},
		{"other name", map[string]MessageAttributeValue{"Foo": str("x")}, CodeInvalidParameterValue},
		{"wrong case", map[string]MessageAttributeValue{"awstraceheader": str("x")}, CodeInvalidParameterValue},
		{"Number type", map[string]MessageAttributeValue{"AWSTraceHeader": {DataType: "Number", StringValue: "1"}}, CodeInvalidParameterValue},
		{"custom String type", map[string]MessageAttributeValue{"AWSTraceHeader": {DataType: "String.x", StringValue: "1"}}, CodeInvalidParameterValue},
		{"Binary type", map[string]MessageAttributeValue{"AWSTraceHeader": {DataType: "Binary", BinaryValue: []byte("x")}}, CodeInvalidParameterValue},
		{"empty value", map[string]MessageAttributeValue{"AWSTraceHeader": str("")}, CodeInvalidParameterValue},
		{"bad chars", map[string]MessageAttributeValue{"AWSTraceHeader": str("\x00")}, CodeInvalidParameterValue},
	} {
		wantCode(t, tc.name, ValidateSystemAttributes(tc.attrs), tc.code)
	}
}

func TestMessageSize(t *testing.T) {
	attrs := map[string]MessageAttributeValue{
		"name": {DataType: "String", StringValue: "héllo"},        // 4 + 6 + 6
		"bin":  {DataType: "Binary.x", BinaryValue: []byte{1, 2}}, // 3 + 8 + 2
	}
	if got, want := MessageSize("aé", attrs), 3+16+13; got != want {
		t.Errorf("MessageSize = %d, want %d", got, want)
	}
	if got := MessageSize("", nil); got != 0 {
		t.Errorf("MessageSize of nothing = %d", got)
	}
}

func TestValidateSendEntry(t *testing.T) {
	delay := func(n int) *int { return &n }
	punct := "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	for _, tc := range []struct {
		name string
		e    SendEntry
		max  int
		code string
	}{
		{"minimal", SendEntry{Body: "x"}, 0, ""},
		{"empty body", SendEntry{Body: ""}, 0, CodeMissingParameter},
		{"bad body", SendEntry{Body: "\x00"}, 0, CodeInvalidMessageContents},
		{"max size body", SendEntry{Body: strings.Repeat("x", MaxMessageSize)}, 0, ""},
		{"over max size body", SendEntry{Body: strings.Repeat("x", MaxMessageSize+1)}, 0, CodeInvalidParameterValue},
		{"size counts attributes", SendEntry{
			Body:              strings.Repeat("x", MaxMessageSize-11),
			MessageAttributes: map[string]MessageAttributeValue{"a": str("1234")}, // 1+6+4 = 11
		}, 0, ""},
		{"size counts attributes over", SendEntry{
			Body:              strings.Repeat("x", MaxMessageSize-10),
			MessageAttributes: map[string]MessageAttributeValue{"a": str("1234")},
		}, 0, CodeInvalidParameterValue},
		{"size ignores system attributes", SendEntry{
			Body:                    strings.Repeat("x", MaxMessageSize),
			MessageSystemAttributes: map[string]MessageAttributeValue{"AWSTraceHeader": str("Root=1")},
		}, 0, ""},
		{"queue maximum", SendEntry{Body: strings.Repeat("x", 1024)}, 1024, ""},
		{"queue maximum over", SendEntry{Body: strings.Repeat("x", 1025)}, 1024, CodeInvalidParameterValue},
		{"multibyte size", SendEntry{Body: strings.Repeat("é", 513)}, 1024, CodeInvalidParameterValue},
		{"bad attribute", SendEntry{Body: "x", MessageAttributes: map[string]MessageAttributeValue{"AWS.a": str("v")}}, 0, CodeInvalidParameterValue},
		{"bad system attribute", SendEntry{Body: "x", MessageSystemAttributes: map[string]MessageAttributeValue{"X": str("v")}}, 0, CodeInvalidParameterValue},
		{"delay 0", SendEntry{Body: "x", DelaySeconds: delay(0)}, 0, ""},
		{"delay 900", SendEntry{Body: "x", DelaySeconds: delay(900)}, 0, ""},
		{"delay 901", SendEntry{Body: "x", DelaySeconds: delay(901)}, 0, CodeInvalidParameterValue},
		{"delay -1", SendEntry{Body: "x", DelaySeconds: delay(-1)}, 0, CodeInvalidParameterValue},
		{"group punctuation", SendEntry{Body: "x", MessageGroupID: "aZ9" + punct}, 0, ""},
		{"group 128", SendEntry{Body: "x", MessageGroupID: strings.Repeat("g", 128)}, 0, ""},
		{"group 129", SendEntry{Body: "x", MessageGroupID: strings.Repeat("g", 129)}, 0, CodeInvalidParameterValue},
		{"group space", SendEntry{Body: "x", MessageGroupID: "a b"}, 0, CodeInvalidParameterValue},
		{"group non-ASCII", SendEntry{Body: "x", MessageGroupID: "é"}, 0, CodeInvalidParameterValue},
		{"group control", SendEntry{Body: "x", MessageGroupID: "a\tb"}, 0, CodeInvalidParameterValue},
		{"group DEL", SendEntry{Body: "x", MessageGroupID: "a\x7f"}, 0, CodeInvalidParameterValue},
		{"dedup punctuation", SendEntry{Body: "x", MessageDeduplicationID: punct}, 0, ""},
		{"dedup 128", SendEntry{Body: "x", MessageDeduplicationID: strings.Repeat("d", 128)}, 0, ""},
		{"dedup 129", SendEntry{Body: "x", MessageDeduplicationID: strings.Repeat("d", 129)}, 0, CodeInvalidParameterValue},
		{"dedup space", SendEntry{Body: "x", MessageDeduplicationID: " "}, 0, CodeInvalidParameterValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSendEntry(&tc.e, tc.max)
			wantCode(t, "ValidateSendEntry", err, tc.code)
		})
	}
	// SQS's wording for a too-long message: as a batch entry (recorded
	// for issue 19), and from SendMessage.
	err := ValidateSendEntry(&SendEntry{Body: strings.Repeat("x", 2000)}, 1024)
	if err == nil || err.Message != "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes." {
		t.Errorf("got %v", err)
	}
	if s := err.AsSingle(); s.Code != CodeInvalidParameterValue || s.Message != "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes." {
		t.Errorf("AsSingle() = %v", s)
	}
}

func TestValidateBatchIDs(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "id" + string(rune('a'+i))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ids  []string
		code string
	}{
		{"nil", nil, CodeEmptyBatchRequest},
		{"empty", []string{}, CodeEmptyBatchRequest},
		{"one", []string{"a"}, ""},
		{"ten", ids(10), ""},
		{"eleven", ids(11), CodeTooManyEntriesInBatchRequest},
		{"eleven with duplicates and bad ids", []string{"", "", "a", "a", "a", "a", "a", "a", "a", "a", "a"}, CodeTooManyEntriesInBatchRequest},
		{"id chars", []string{"AZaz09-_"}, ""},
		{"id 80", []string{strings.Repeat("i", 80)}, ""},
		{"id 81", []string{strings.Repeat("i", 81)}, CodeInvalidBatchEntryID},
		{"empty id", []string{""}, CodeInvalidBatchEntryID},
		{"id dot", []string{"a.b"}, CodeInvalidBatchEntryID},
		{"id space", []string{"a b"}, CodeInvalidBatchEntryID},
		{"id non-ASCII", []string{"é"}, CodeInvalidBatchEntryID},
		{"duplicate", []string{"a", "b", "a"}, CodeBatchEntryIdsNotDistinct},
		{"ids are case-sensitive", []string{"a", "A"}, ""},
		{"invalid before duplicate", []string{"a", "a", "b c"}, CodeInvalidBatchEntryID},
	} {
		wantCode(t, tc.name, ValidateBatchIDs(tc.ids), tc.code)
	}
	ten := ids(10)
	if n := testing.AllocsPerRun(100, func() { _ = ValidateBatchIDs(ten) }); n != 0 {
		t.Errorf("ValidateBatchIDs allocates %v times", n)
	}
}

func TestValidateSendBatchSize(t *testing.T) {
	half := strings.Repeat("x", MaxMessageSize/2)
	wantCode(t, "exactly the maximum", ValidateSendBatchSize([]SendEntry{{Body: half}, {Body: half}}), "")
	wantCode(t, "one byte over", ValidateSendBatchSize([]SendEntry{{Body: half}, {Body: half + "x"}}), CodeBatchRequestTooLong)
	wantCode(t, "attributes count", ValidateSendBatchSize([]SendEntry{
		{Body: half}, {Body: half[:len(half)-6], MessageAttributes: map[string]MessageAttributeValue{"a": str("x")}},
	}), CodeBatchRequestTooLong)
	wantCode(t, "empty", ValidateSendBatchSize(nil), "")
}

func TestValidateReceiveRequest(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name string
		req  ReceiveRequest
		code string
	}{
		{"zero value", ReceiveRequest{}, ""},
		{"max 1", ReceiveRequest{MaxMessages: 1}, ""},
		{"max 10", ReceiveRequest{MaxMessages: 10}, ""},
		{"max 11", ReceiveRequest{MaxMessages: 11}, CodeInvalidParameterValue},
		{"max -1", ReceiveRequest{MaxMessages: -1}, CodeInvalidParameterValue},
		{"wait 0", ReceiveRequest{WaitTimeSeconds: n(0)}, ""},
		{"wait 20", ReceiveRequest{WaitTimeSeconds: n(20)}, ""},
		{"wait 21", ReceiveRequest{WaitTimeSeconds: n(21)}, CodeInvalidParameterValue},
		{"wait -1", ReceiveRequest{WaitTimeSeconds: n(-1)}, CodeInvalidParameterValue},
		{"visibility 0", ReceiveRequest{VisibilityTimeout: n(0)}, ""},
		{"visibility 43200", ReceiveRequest{VisibilityTimeout: n(43200)}, ""},
		{"visibility 43201", ReceiveRequest{VisibilityTimeout: n(43201)}, CodeInvalidParameterValue},
		{"visibility -1", ReceiveRequest{VisibilityTimeout: n(-1)}, CodeInvalidParameterValue},
		{"attempt id", ReceiveRequest{ReceiveRequestAttemptID: "a-1!~"}, ""},
		{"attempt id 128", ReceiveRequest{ReceiveRequestAttemptID: strings.Repeat("a", 128)}, ""},
		{"attempt id 129", ReceiveRequest{ReceiveRequestAttemptID: strings.Repeat("a", 129)}, CodeInvalidParameterValue},
		{"attempt id space", ReceiveRequest{ReceiveRequestAttemptID: "a b"}, CodeInvalidParameterValue},
		{"system names", ReceiveRequest{SystemAttributeNames: SystemAttributeNames}, ""},
		{"SqsManagedSseEnabled", ReceiveRequest{SystemAttributeNames: []string{"SqsManagedSseEnabled"}}, ""},
		{"unknown system name", ReceiveRequest{SystemAttributeNames: []string{"SentTimestamp", "Bogus"}}, CodeInvalidAttributeName},
		{"system names are case-sensitive", ReceiveRequest{SystemAttributeNames: []string{"all"}}, CodeInvalidAttributeName},
		{"attribute names", ReceiveRequest{MessageAttributeNames: []string{"All", ".*", "foo.*", "foo.bar.*", "a", "a.b"}}, ""},
		// SQS answers a receive naming attributes no message can have
		// with the message, without attributes (recorded for issue 19).
		{"attribute names no attribute has", ReceiveRequest{MessageAttributeNames: []string{"", "a b", "AWS.x", "..foo", "*", "a..*", strings.Repeat("a", 257)}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "ValidateReceiveRequest", ValidateReceiveRequest(&tc.req), tc.code)
		})
	}
}

func TestValidateVisibilityTimeout(t *testing.T) {
	for v, code := range map[int]string{
		0: "", 1: "", 43200: "", 43201: CodeInvalidParameterValue, -1: CodeInvalidParameterValue,
	} {
		wantCode(t, "ValidateVisibilityTimeout", ValidateVisibilityTimeout(v), code)
	}
}

func TestValidateTags(t *testing.T) {
	fifty := map[string]string{}
	for i := range 50 {
		fifty["k"+strings.Repeat("x", i)] = "v"
	}
	fiftyOne := map[string]string{"extra": "v"}
	for k, v := range fifty {
		fiftyOne[k] = v
	}
	for _, tc := range []struct {
		name string
		tags map[string]string
		code string
	}{
		{"nil", nil, ""},
		{"fifty", fifty, ""},
		{"fifty-one", fiftyOne, CodeInvalidParameterValue},
		{"empty value", map[string]string{"k": ""}, ""},
		{"key 128", map[string]string{strings.Repeat("k", 128): "v"}, ""},
		{"key 129", map[string]string{strings.Repeat("k", 129): "v"}, CodeInvalidParameterValue},
		{"key 128 runes", map[string]string{strings.Repeat("é", 128): "v"}, ""},
		{"empty key", map[string]string{"": "v"}, CodeInvalidParameterValue},
		{"value 256", map[string]string{"k": strings.Repeat("v", 256)}, ""},
		{"value 257", map[string]string{"k": strings.Repeat("v", 257)}, CodeInvalidParameterValue},
		{"aws: prefix", map[string]string{"aws:x": "v"}, CodeInvalidParameterValue},
		{"AWS: prefix", map[string]string{"AWS:x": "v"}, CodeInvalidParameterValue},
		{"aws without colon", map[string]string{"awsx": "v"}, ""},
	} {
		wantCode(t, tc.name, ValidateTags(tc.tags), tc.code)
	}
}

func TestValidateTagKeys(t *testing.T) {
	wantCode(t, "nil", ValidateTagKeys(nil), "")
	wantCode(t, "fine", ValidateTagKeys([]string{"a", strings.Repeat("k", 128)}), "")
	wantCode(t, "empty", ValidateTagKeys([]string{"a", ""}), CodeInvalidParameterValue)
	wantCode(t, "129", ValidateTagKeys([]string{strings.Repeat("k", 129)}), CodeInvalidParameterValue)
	wantCode(t, "aws:", ValidateTagKeys([]string{"aws:cloudformation:stack"}), CodeInvalidParameterValue)
}

func TestValidateSendEntryAllocations(t *testing.T) {
	e := benchEntry()
	if n := testing.AllocsPerRun(100, func() { _ = ValidateSendEntry(&e, 0) }); n != 0 {
		t.Errorf("ValidateSendEntry allocates %v times on a valid entry", n)
	}
}

func benchEntry() SendEntry {
	d := 5
	return SendEntry{
		ID:   "entry-1",
		Body: strings.Repeat(`{"k":"v"} `, 25) + "é\U0001F600", // 256 bytes
		MessageAttributes: map[string]MessageAttributeValue{
			"trace-id":     str(strings.Repeat("t", 32)),
			"attempt":      {DataType: "Number", StringValue: "3"},
			"content-type": {DataType: "String.mime", StringValue: "application/json"},
			"sig":          {DataType: "Binary", BinaryValue: []byte{1, 2, 3}},
		},
		MessageSystemAttributes: map[string]MessageAttributeValue{"AWSTraceHeader": str("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")},
		DelaySeconds:            &d,
		MessageGroupID:          "tenant-42",
		MessageDeduplicationID:  "dedup-1",
	}
}

func BenchmarkValidateSendEntry(b *testing.B) {
	e := benchEntry()
	b.SetBytes(int64(len(e.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateSendEntry(&e, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateBody(b *testing.B) {
	for _, tc := range []struct{ name, body string }{
		{"ascii-256", strings.Repeat("x", 256)},
		{"ascii-64k", strings.Repeat("x", 64<<10)},
		{"utf8-64k", strings.Repeat("é", 32<<10)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = ValidateBody(tc.body)
			}
		})
	}
}
