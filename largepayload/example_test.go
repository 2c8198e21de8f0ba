package largepayload_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/largepayload"
	"github.com/postbox-go/postbox/producer"
)

func ExampleOffloader_Message() {
	store := &largepayload.MemStore{} // largepayload.S3Store{Client: s3Client} on AWS
	o, _ := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: "payloads", KeyPrefix: "jobs/"})
	m, _ := o.Message(context.Background(), producer.Message{Body: strings.Repeat("x", 300<<10)})
	p, _ := largepayload.ParsePointer(m.Body)
	fmt.Println(p.Bucket, strings.HasPrefix(p.Key, "jobs/"), m.Attributes["ExtendedPayloadSize"].StringValue, store.Len())
	// Output: payloads true 307200 1
}

func ExampleResolve() {
	store := &largepayload.MemStore{}
	store.Put(context.Background(), "payloads", "k1", "a payload too large for SQS")
	h := consumer.Chain(consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		fmt.Println(msg.Body)
		return nil
	}), largepayload.Resolve(largepayload.ResolveConfig{Store: store, DeleteAfterSuccess: true}))

	msg := &consumer.Message{} // as received from a Java or Python Extended Client
	msg.Body = `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"k1"}]`
	msg.MessageAttributes = map[string]backend.MessageAttributeValue{"ExtendedPayloadSize": {DataType: "Number", StringValue: "27"}}
	fmt.Println(h.HandleMessage(context.Background(), msg), store.Len())
	// Output:
	// a payload too large for SQS
	// <nil> 0
}
