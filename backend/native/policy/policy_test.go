package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native/policy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const queueARN = "arn:aws:sqs:us-east-1:111111111111:jobs"

func TestValidate(t *testing.T) {
	stmt := func(i int) string {
		return fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"*"}`, i)
	}
	many := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, stmt(i))
		}
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(parts, ",") + `]}`
	}
	principals := func(n int) string {
		var ps []string
		for i := range n {
			ps = append(ps, fmt.Sprintf(`"%012d"`, i))
		}
		return `{"Statement":{"Effect":"Allow","Principal":{"AWS":[` + strings.Join(ps, ",") + `]},"Action":"*"}}`
	}
	conditions := func(n int) string {
		var cs []string
		for i := range n {
			cs = append(cs, fmt.Sprintf(`"aws:k%d":"v"`, i))
		}
		return `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{` + strings.Join(cs, ",") + `}}}}`
	}
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"empty", "", true},
		{"one statement", `{"Version":"2012-10-17","Statement":` + stmt(0) + `}`, true},
		{"20 statements", many(20), true},
		{"21 statements", many(21), false},
		{"50 principals", principals(50), true},
		{"51 principals", principals(51), false},
		{"10 conditions", conditions(10), true},
		{"11 conditions", conditions(11), false},
		{"too long", `{"Id":"` + strings.Repeat("x", policy.MaxBytes) + `","Statement":` + stmt(0) + `}`, false},
		{"not JSON", `{"Statement":`, false},
		{"array", `[]`, false},
		{"trailing text", `{"Statement":` + stmt(0) + `} x`, false},
		{"no statement", `{"Version":"2012-10-17"}`, false},
		{"empty statements", `{"Statement":[]}`, false},
		{"bad version", `{"Version":"2020-01-01","Statement":` + stmt(0) + `}`, false},
		{"unknown element", `{"Foo":1,"Statement":` + stmt(0) + `}`, false},
		{"no effect", `{"Statement":{"Principal":"*","Action":"*"}}`, false},
		{"bad effect", `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"*"}}`, false},
		{"no principal", `{"Statement":{"Effect":"Allow","Action":"*"}}`, false},
		{"both principals", `{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*"}}`, false},
		{"bad principal", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"*"}}`, false},
		{"principal string", `{"Statement":{"Effect":"Allow","Principal":"bob","Action":"*"}}`, false},
		{"principal arn", `{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root","arn:aws:iam::222222222222:user/x"]},"Action":"*"}}`, true},
		{"service principal", `{"Statement":{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage"}}`, true},
		{"unknown principal type", `{"Statement":{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"*"}}`, false},
		{"no action", `{"Statement":{"Effect":"Allow","Principal":"*"}}`, false},
		{"action without service", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"SendMessage"}}`, false},
		{"empty action list", `{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}`, false},
		{"duplicate sid", `{"Statement":[` + stmt(1) + `,` + stmt(1) + `]}`, false},
		{"unknown statement element", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Foo":1}}`, false},
		{"bad condition", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":"x"}}}`, false},
		{"condition object value", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}`, false},
		{"unsupported operator accepted", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := policy.Validate(tc.doc)
			if tc.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tc.ok {
				if backend.Code(err) != backend.CodeInvalidAttributeValue {
					t.Fatalf("Validate = %v, want InvalidAttributeValue", err)
				}
				if !strings.HasPrefix(err.(*backend.Error).Message, "Invalid value for the parameter Policy. Reason: ") {
					t.Errorf("message %q", err.(*backend.Error).Message)
				}
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	req := func(acct, action string, ctx map[string]string) policy.Request {
		return policy.Request{Account: acct, Action: action, Resource: queueARN, Context: ctx}
	}
	const other = "222222222222"
	for _, tc := range []struct {
		name string
		doc  string
		req  policy.Request
		want policy.Decision
	}{
		{"empty policy", "", req(other, "sqs:SendMessage", nil), policy.NotApplicable},
		{"allow account id", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"` + queueARN + `"}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"other action", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage"}}`,
			req(other, "sqs:ReceiveMessage", nil), policy.NotApplicable},
		{"other account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:*"}}`,
			req("333333333333", "sqs:SendMessage", nil), policy.NotApplicable},
		{"root arn, AddPermission style", `{"Statement":[{"Sid":"l","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root"]},"Action":["SQS:SendMessage"],"Resource":"` + queueARN + `"}]}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"user arn does not match account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/bob"},"Action":"*"}}`,
			req(other, "sqs:SendMessage", nil), policy.NotApplicable},
		{"star principal, wildcard action", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:Send*"}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"AWS star", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sqs:?eceiveMessage"}}`,
			req(other, "sqs:ReceiveMessage", nil), policy.Allowed},
		{"action case", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"SQS:sendmessage"}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"other service", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sns:*"}}`,
			req(other, "sqs:SendMessage", nil), policy.NotApplicable},
		{"resource wildcard", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:sqs:*:111111111111:job?"}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"resource mismatch", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:sqs:us-east-1:111111111111:other"}}`,
			req(other, "sqs:SendMessage", nil), policy.NotApplicable},
		{"NotResource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","NotResource":"arn:aws:sqs:us-east-1:111111111111:other"}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"NotAction", `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"sqs:PurgeQueue"}}`,
			req(other, "sqs:PurgeQueue", nil), policy.NotApplicable},
		{"NotPrincipal", `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"222222222222"},"Action":"*"}}`,
			req("333333333333", "sqs:SendMessage", nil), policy.Denied},
		{"explicit deny wins", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage"}]}`,
			req(other, "sqs:SendMessage", nil), policy.Denied},
		{"deny other action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":"*","Action":"sqs:PurgeQueue"}]}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"SourceArn absent", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:t"}}}}`,
			req(other, "sqs:SendMessage", nil), policy.NotApplicable},
		{"SourceArn like", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111111111111:*"}}}}`,
			req(other, "sqs:SendMessage", map[string]string{"aws:sourcearn": "arn:aws:sns:us-east-1:111111111111:t"}), policy.Allowed},
		{"PrincipalAccount equals", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":["444444444444","222222222222"]}}}}`,
			req(other, "sqs:SendMessage", map[string]string{"aws:principalaccount": other}), policy.Allowed},
		{"StringNotEquals absent key", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"111111111111"}}}}`,
			req(other, "sqs:SendMessage", nil), policy.Denied},
		{"IfExists absent key", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEqualsIfExists":{"aws:SourceAccount":"111111111111"}}}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"Bool secure transport", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}}`,
			req(other, "sqs:SendMessage", map[string]string{"aws:securetransport": "false"}), policy.Denied},
		{"IpAddress", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`,
			req(other, "sqs:SendMessage", map[string]string{"aws:sourceip": "10.1.2.3"}), policy.Allowed},
		{"NotIpAddress", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`,
			req(other, "sqs:SendMessage", map[string]string{"aws:sourceip": "10.1.2.3"}), policy.NotApplicable},
		{"Null", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"Null":{"aws:SourceArn":"true"}}}}`,
			req(other, "sqs:SendMessage", nil), policy.Allowed},
		{"unsupported operator: allow fails closed", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"NumericLessThan":{"k":"1"}}}}`,
			req(other, "sqs:SendMessage", map[string]string{"k": "0"}), policy.NotApplicable},
		{"unsupported operator: deny fails closed", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"NumericLessThan":{"k":"1"}}}]}`,
			req(other, "sqs:SendMessage", map[string]string{"k": "5"}), policy.Denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Evaluate(tc.req); got != tc.want {
				t.Fatalf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}
