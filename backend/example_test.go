package backend_test

import (
	"errors"
	"fmt"
	"sort"

	"github.com/postbox-go/postbox/backend"
)

func ExampleValidateSendEntry() {
	delay := 901
	e := backend.SendEntry{ID: "1", Body: "hello", DelaySeconds: &delay}
	err := backend.ValidateSendEntry(&e, backend.MaxMessageSize)
	fmt.Println(err.Code)
	fmt.Println(errors.Is(err, backend.ErrInvalidParameterValue))

	e = backend.SendEntry{ID: "2", Body: "bell \a"}
	fmt.Println(backend.ValidateSendEntry(&e, 0).Code)
	// Output:
	// InvalidParameterValue
	// true
	// InvalidMessageContents
}

func ExampleValidateBatchIDs() {
	fmt.Println(backend.ValidateBatchIDs([]string{"a", "b"}))
	fmt.Println(backend.ValidateBatchIDs([]string{"a", "a"}).Code)
	fmt.Println(backend.ValidateBatchIDs(nil).Code)
	// Output:
	// <nil>
	// BatchEntryIdsNotDistinct
	// EmptyBatchRequest
}

func ExampleValidateMessageAttributes() {
	err := backend.ValidateMessageAttributes(map[string]backend.MessageAttributeValue{
		"AWS.secret": {DataType: "String", StringValue: "x"},
	})
	fmt.Println(err.Code)
	err = backend.ValidateMessageAttributes(map[string]backend.MessageAttributeValue{
		"price": {DataType: "Number.cents", StringValue: "1999"},
	})
	fmt.Println(err)
	// Output:
	// InvalidParameterValue
	// <nil>
}

func ExampleMD5OfMessageAttributes() {
	attrs := map[string]backend.MessageAttributeValue{
		"SellerName": {DataType: "String", StringValue: "Example Store"},
	}
	fmt.Println(backend.MD5OfBody("test"))
	fmt.Println(backend.MD5OfMessageAttributes(attrs))
	fmt.Printf("%q\n", backend.MD5OfMessageAttributes(nil))
	// Output:
	// 098f6bcd4621d373cade4e832627b4f6
	// cd28f3b68aeee4b2eac9c66f2f694b58
	// ""
}

func ExampleSelectMessageAttributes() {
	attrs := map[string]backend.MessageAttributeValue{
		"trace.id":   {DataType: "String", StringValue: "abc"},
		"trace.span": {DataType: "String", StringValue: "def"},
		"tenant":     {DataType: "String", StringValue: "acme"},
	}
	got := backend.SelectMessageAttributes(attrs, []string{"trace.*"})
	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Println(names)
	fmt.Println(len(backend.SelectMessageAttributes(attrs, []string{"All"})))
	fmt.Println(backend.SelectMessageAttributes(attrs, []string{"other"}) == nil)
	// Output:
	// [trace.id trace.span]
	// 3
	// true
}

func ExampleWantsSystemAttribute() {
	names := []string{"ApproximateReceiveCount"}
	fmt.Println(backend.WantsSystemAttribute(names, "ApproximateReceiveCount"))
	fmt.Println(backend.WantsSystemAttribute(names, "SentTimestamp"))
	fmt.Println(backend.WantsSystemAttribute([]string{"All"}, "SentTimestamp"))
	// Output:
	// true
	// false
	// true
}

func ExampleValidateQueueName() {
	fmt.Println(backend.ValidateQueueName("orders.fifo"))
	fmt.Println(backend.ValidateQueueName("orders/eu").Code)
	// Output:
	// <nil>
	// InvalidParameterValue
}

func ExampleValidateReceiveRequest() {
	wait := 25
	err := backend.ValidateReceiveRequest(&backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: &wait})
	fmt.Println(err)
	// Output:
	// InvalidParameterValue: Value 25 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.
}

func ExampleCode() {
	err := fmt.Errorf("sending: %w", backend.NewError(backend.CodeQueueDoesNotExist, "The specified queue does not exist."))
	fmt.Println(backend.Code(err))
	fmt.Println(errors.Is(err, backend.ErrQueueDoesNotExist))
	// Output:
	// QueueDoesNotExist
	// true
}
