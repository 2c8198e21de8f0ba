package native

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

func TestWithAccountScopesQueues(t *testing.T) {
	e, _ := newTestEngine(t)
	bg := context.Background()
	other := WithAccount(bg, "111122223333")

	uDefault, err := e.CreateQueue(bg, "jobs", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	uOther, err := e.CreateQueue(other, "jobs", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(uDefault, "/"+DefaultAccountID+"/jobs") || !strings.Contains(uOther, "/111122223333/jobs") {
		t.Fatalf("urls %s, %s", uDefault, uOther)
	}
	attrs, err := e.GetAttributes(bg, uOther, []string{"QueueArn"})
	if err != nil || attrs["QueueArn"] != "arn:aws:sqs:us-east-1:111122223333:jobs" {
		t.Fatalf("arn %v, %v", attrs, err)
	}
	if _, err := e.CreateQueue(other, "only-other", nil, nil); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		ctx  context.Context
		want []string
	}{
		{bg, []string{uDefault}},
		{other, []string{uOther, strings.Replace(uOther, "jobs", "only-other", 1)}},
		{WithAccount(bg, "not-an-account"), []string{uDefault}},
	} {
		res, err := e.ListQueues(tc.ctx, backend.ListQueuesRequest{})
		if err != nil || !slices.Equal(res.QueueURLs, tc.want) {
			t.Errorf("ListQueues = %v, %v; want %v", res.QueueURLs, err, tc.want)
		}
	}

	if u, err := e.QueueURL(other, "only-other", ""); err != nil || !strings.Contains(u, "/111122223333/") {
		t.Errorf("QueueURL in ctx account = %q, %v", u, err)
	}
	if _, err := e.QueueURL(bg, "only-other", ""); backend.Code(err) != backend.CodeQueueDoesNotExist {
		t.Errorf("QueueURL in default account: %v", err)
	}
	if u, err := e.QueueURL(bg, "only-other", "111122223333"); err != nil || u == "" {
		t.Errorf("QueueURL with owner = %q, %v", u, err)
	}
	if id, ok := AccountFromContext(other); !ok || id != "111122223333" {
		t.Errorf("AccountFromContext = %q, %v", id, ok)
	}
}

func TestPolicyValidatedWhenSet(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	u, err := e.CreateQueue(ctx, "q", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateQueue(ctx, "bad", backend.Attributes{"Policy": `{"Statement":{"Effect":"Allow"}}`}, nil); backend.Code(err) != backend.CodeInvalidAttributeValue {
		t.Fatalf("CreateQueue with a bad policy: %v", err)
	}
	if err := e.SetAttributes(ctx, u, backend.Attributes{"Policy": `{"Statement":[]}`}); backend.Code(err) != backend.CodeInvalidAttributeValue {
		t.Fatalf("SetAttributes with a bad policy: %v", err)
	}
	// AddPermission's grants count as statements: the 21st is refused.
	for i := range 21 {
		err := e.AddPermission(ctx, backend.PermissionRequest{
			QueueURL: u, Label: "l" + strings.Repeat("x", i), AccountIDs: []string{"222222222222"}, Actions: []string{"SendMessage"},
		})
		if i < 20 && err != nil {
			t.Fatalf("grant %d: %v", i+1, err)
		}
		if i == 20 && backend.Code(err) != backend.CodeInvalidAttributeValue {
			t.Fatalf("grant 21: %v, want InvalidAttributeValue", err)
		}
	}
	attrs, err := e.GetAttributes(ctx, u, []string{"Policy"})
	if err != nil || strings.Count(attrs["Policy"], `"Sid"`) != 20 {
		t.Fatalf("policy after 21 grants: %v %v", attrs, err)
	}
}
