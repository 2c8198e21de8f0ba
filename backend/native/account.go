package native

import (
	"context"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native/policy"
)

// accountKey is the context key of WithAccount.
type accountKey struct{}

// WithAccount returns a context under which the Engine's account-scoped
// calls act in the 12-digit account id: CreateQueue creates the queue in
// that account, ListQueues lists that account's queues, and QueueURL looks
// the name up in it when no owner account is given. Calls that name a
// queue by URL or ARN act on the account the URL or ARN carries, whatever
// the context says. Without WithAccount (or with an id that is not 12
// digits) the engine's Config.AccountID is used.
//
// postbox serve uses it to act in the account of the credentials that
// signed a request; the engine itself checks no permissions.
func WithAccount(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, accountKey{}, id)
}

// AccountFromContext returns the account id set by WithAccount, and
// whether one was set.
func AccountFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(accountKey{}).(string)
	return id, ok
}

// account returns the account a call with ctx acts in.
func (e *Engine) account(ctx context.Context) string {
	if ctx != nil {
		if id, ok := AccountFromContext(ctx); ok && backend.IsAccountID(id) {
			return id
		}
	}
	return e.cfg.AccountID
}

// checkPolicy validates a Policy attribute being set: package policy's
// language subset and SQS's limits (8,192 bytes, 20 statements, 50
// principals, 10 conditions); InvalidAttributeValue otherwise.
func checkPolicy(attrs backend.Attributes) error {
	v, ok := attrs[attrPolicy]
	if !ok {
		return nil
	}
	return policy.Validate(v)
}
