package producer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/producer"
)

func ExampleProducer() {
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(context.Background(), "jobs", nil, nil)
	q, _ := eng.Queue(url)

	p := producer.New(q, producer.Config{})
	defer p.Close()
	res, err := p.Send(context.Background(), producer.Message{Body: `{"image":"cat.png"}`})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.MessageID != "")
	// Output: true
}

func ExampleSendBatch() {
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(context.Background(), "jobs", nil, nil)
	q, _ := eng.Queue(url)

	var msgs []producer.Message
	for i := range 25 {
		msgs = append(msgs, producer.Message{Body: fmt.Sprintf("job %d", i)})
	}
	// Three SendMessageBatch calls: 10, 10 and 5 messages.
	results, err := producer.SendBatch(context.Background(), q, msgs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(results), "sent")
	// Output: 25 sent
}
