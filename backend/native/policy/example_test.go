package policy_test

import (
	"fmt"

	"github.com/postbox-go/postbox/backend/native/policy"
)

func ExampleParse() {
	p, err := policy.Parse(`{
	  "Version": "2012-10-17",
	  "Statement": [{
	    "Effect": "Allow",
	    "Principal": {"AWS": "222222222222"},
	    "Action": "sqs:SendMessage",
	    "Resource": "arn:aws:sqs:us-east-1:111111111111:jobs"
	  }]
	}`)
	if err != nil {
		panic(err)
	}
	for _, action := range []string{"sqs:SendMessage", "sqs:PurgeQueue"} {
		d := p.Evaluate(policy.Request{Account: "222222222222", Action: action, Resource: "arn:aws:sqs:us-east-1:111111111111:jobs"})
		fmt.Println(action, d)
	}
	// Output:
	// sqs:SendMessage Allowed
	// sqs:PurgeQueue NotApplicable
}

func ExampleValidate() {
	err := policy.Validate(`{"Statement": {"Effect": "Allow", "Action": "sqs:*"}}`)
	fmt.Println(err)
	// Output:
	// InvalidAttributeValue: Invalid value for the parameter Policy. Reason: statement 1 must have exactly one of Principal and NotPrincipal.
}
