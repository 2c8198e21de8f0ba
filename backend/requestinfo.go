package backend

import "context"

// CallInfo is what a backend tells its caller about one call beyond the
// call's results: today, the service's request id. A caller asks for it
// with [WithCallInfo] and reads it once the call has returned:
//
//	ctx, info := backend.WithCallInfo(ctx)
//	res, err := q.Send(ctx, entries)
//	log.Printf("request %s: %v", info.RequestID, err)
//
// Recording call information is optional for backends. The AWS adapter
// (backend/awssqs) records the request id SQS (or postbox serve) sent with
// its answer, for successes and error answers alike; the native engine in
// process has no requests and records nothing, so RequestID stays empty.
//
// A CallInfo belongs to one call at a time: backends write it without
// synchronisation while the call runs, so read it only after the call
// returns, and do not make concurrent calls with contexts that carry the
// same CallInfo.
type CallInfo struct {
	// RequestID is the service's id for the request that carried the call
	// (the x-amzn-RequestId header of the answer), or "" when the backend
	// has none or the call got no answer. When one call makes several
	// requests, it is the last answered one's.
	RequestID string

	// outer is the CallInfo of the context WithCallInfo was given, if
	// any: SetRequestID fills it too, so that a decorator asking for call
	// information does not hide it from its own caller.
	outer *CallInfo
}

// callInfoCtx is the context WithCallInfo returns: a context carrying its
// CallInfo inline, so that asking for call information costs one
// allocation.
type callInfoCtx struct {
	context.Context
	info CallInfo
}

// callInfoKey is the context key of a *CallInfo.
type callInfoKey struct{}

// Value returns the context's CallInfo for callInfoKey and otherwise asks
// the parent.
func (c *callInfoCtx) Value(key any) any {
	if _, ok := key.(callInfoKey); ok {
		return &c.info
	}
	return c.Context.Value(key)
}

// String names the context, as the context package's own contexts do.
func (c *callInfoCtx) String() string {
	if s, ok := c.Context.(interface{ String() string }); ok {
		return s.String() + ".WithCallInfo"
	}
	return "context.WithCallInfo"
}

// WithCallInfo returns a context derived from ctx that carries a new,
// empty CallInfo, and that CallInfo. A backend call made with the context
// (or a context derived from it) fills the CallInfo; see [CallInfo] for
// what and when. When ctx already carries a CallInfo, calls made with the
// new context fill both.
func WithCallInfo(ctx context.Context) (context.Context, *CallInfo) {
	c := &callInfoCtx{Context: ctx}
	c.info.outer = CallInfoFrom(ctx)
	return c, &c.info
}

// CallInfoFrom returns the innermost CallInfo ctx carries, or nil when it
// carries none.
func CallInfoFrom(ctx context.Context) *CallInfo {
	info, _ := ctx.Value(callInfoKey{}).(*CallInfo)
	return info
}

// SetRequestID records id as the request id of the call made with ctx, on
// every CallInfo ctx carries (the innermost and those it was derived
// from). It does nothing when id is empty or ctx carries no CallInfo, and
// then costs one context lookup. Backends that have request ids call it
// once the answer is in, from the goroutine that makes the call.
func SetRequestID(ctx context.Context, id string) {
	if id == "" {
		return
	}
	for info := CallInfoFrom(ctx); info != nil; info = info.outer {
		info.RequestID = id
	}
}
