package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// SQS's limits on a queue policy.
const (
	MaxBytes      = 8192 // the policy document's size
	MaxStatements = 20
	MaxPrincipals = 50 // over all statements
	MaxConditions = 10 // condition keys, over all statements
)

// Policy is a parsed queue policy. The zero value allows nothing.
type Policy struct {
	// Version is the policy language version ("2012-10-17" or "2008-10-17").
	Version string
	// ID is the policy's Id, if any.
	ID string
	// Statements are the policy's statements, in order.
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Principals are the AWS principals the statement names ("*" for
	// anyone); NotPrincipal is true when they were given as NotPrincipal.
	Principals   []string
	NotPrincipal bool
	// OtherPrincipals counts Service, Federated and CanonicalUser
	// principals, which no postbox caller ever is.
	OtherPrincipals int
	Actions         []string
	NotAction       bool
	Resources       []string // nil: any resource (none was given)
	NotResource     bool
	Conditions      []Condition
}

// Effect is Allow or Deny.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Condition is one operator applied to one context key.
type Condition struct {
	Operator string // as written, e.g. "StringLikeIfExists"
	Key      string
	Values   []string
}

// Request is what a policy is evaluated against.
type Request struct {
	// Account is the 12-digit account of the caller.
	Account string
	// Action is the IAM action, e.g. "sqs:SendMessage".
	Action string
	// Resource is the queue's ARN.
	Resource string
	// Context holds condition keys (lower-case, e.g. "aws:sourceip") and
	// their values; a key that is absent is not in the request.
	Context map[string]string
}

// Decision is the result of evaluating a policy.
type Decision int

// Decisions. NotApplicable means no statement matched: the request is
// denied unless something else allows it.
const (
	NotApplicable Decision = iota
	Allowed
	Denied
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case Denied:
		return "Denied"
	}
	return "NotApplicable"
}

// invalid is the error for a policy SQS would refuse.
func invalid(format string, args ...any) *backend.Error {
	return backend.NewError(backend.CodeInvalidAttributeValue, "Invalid value for the parameter Policy. Reason: "+format, args...)
}

// Validate checks a Policy attribute value the way SQS does when it is set:
// a policy document in the subset described in the package documentation,
// within SQS's limits. The empty string (no policy) is valid. The error is
// an InvalidAttributeValue *backend.Error.
func Validate(doc string) error {
	_, err := Parse(doc)
	return err
}

// Parse parses and validates a policy document (see Validate). The empty
// string is the empty policy.
func Parse(doc string) (*Policy, error) {
	if strings.TrimSpace(doc) == "" {
		return &Policy{}, nil
	}
	if len(doc) > MaxBytes {
		return nil, invalid("the policy is %d bytes; the limit is %d bytes.", len(doc), MaxBytes)
	}
	var raw map[string]json.RawMessage
	if err := decodeStrict(doc, &raw); err != nil {
		return nil, invalid("the policy is not a JSON object: %v.", err)
	}
	p := &Policy{}
	for k, v := range raw {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil || (p.Version != "2012-10-17" && p.Version != "2008-10-17") {
				return nil, invalid("Version must be \"2012-10-17\" or \"2008-10-17\".")
			}
		case "Id":
			if err := json.Unmarshal(v, &p.ID); err != nil {
				return nil, invalid("Id must be a string.")
			}
		case "Statement":
			sts, err := parseStatements(v)
			if err != nil {
				return nil, err
			}
			p.Statements = sts
		default:
			return nil, invalid("unknown policy element %q.", k)
		}
	}
	if _, ok := raw["Statement"]; !ok {
		return nil, invalid("the policy has no Statement.")
	}
	if len(p.Statements) > MaxStatements {
		return nil, invalid("the policy has %d statements; the limit is %d.", len(p.Statements), MaxStatements)
	}
	var principals, conditions int
	for _, s := range p.Statements {
		principals += len(s.Principals) + s.OtherPrincipals
		conditions += len(s.Conditions)
	}
	if principals > MaxPrincipals {
		return nil, invalid("the policy names %d principals; the limit is %d.", principals, MaxPrincipals)
	}
	if conditions > MaxConditions {
		return nil, invalid("the policy has %d conditions; the limit is %d.", conditions, MaxConditions)
	}
	return p, nil
}

// decodeStrict decodes one JSON value and nothing after it.
func decodeStrict(doc string, v any) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("text after the JSON value")
	}
	return nil
}

func parseStatements(v json.RawMessage) ([]Statement, error) {
	var list []json.RawMessage
	if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '{' {
		list = []json.RawMessage{v}
	} else if err := json.Unmarshal(v, &list); err != nil {
		return nil, invalid("Statement must be an object or an array of objects.")
	}
	if len(list) == 0 {
		return nil, invalid("Statement is empty.")
	}
	if len(list) > MaxStatements {
		return nil, invalid("the policy has %d statements; the limit is %d.", len(list), MaxStatements)
	}
	out := make([]Statement, 0, len(list))
	sids := map[string]bool{}
	for i, raw := range list {
		s, err := parseStatement(raw, i)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, invalid("statement ids (Sid) must be unique; %q is used twice.", s.Sid)
			}
			sids[s.Sid] = true
		}
		out = append(out, s)
	}
	return out, nil
}

func parseStatement(v json.RawMessage, i int) (Statement, error) {
	var s Statement
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil || raw == nil {
		return s, invalid("statement %d is not a JSON object.", i+1)
	}
	where := fmt.Sprintf("statement %d", i+1)
	has := func(k string) bool { _, ok := raw[k]; return ok }
	for k, val := range raw {
		var err error
		switch k {
		case "Sid":
			if json.Unmarshal(val, &s.Sid) != nil {
				err = invalid("%s: Sid must be a string.", where)
			}
		case "Effect":
			var e string
			if json.Unmarshal(val, &e) != nil || (e != string(Allow) && e != string(Deny)) {
				err = invalid("%s: Effect must be \"Allow\" or \"Deny\".", where)
			}
			s.Effect = Effect(e)
		case "Principal", "NotPrincipal":
			s.NotPrincipal = k == "NotPrincipal"
			s.Principals, s.OtherPrincipals, err = parsePrincipal(val, where)
		case "Action", "NotAction":
			s.NotAction = k == "NotAction"
			s.Actions, err = stringOrList(val, where, k)
			if err == nil {
				for _, a := range s.Actions {
					if a != "*" && !strings.Contains(a, ":") {
						err = invalid("%s: action %q must be \"*\" or service:action, e.g. \"sqs:SendMessage\".", where, a)
						break
					}
				}
			}
		case "Resource", "NotResource":
			s.NotResource = k == "NotResource"
			s.Resources, err = stringOrList(val, where, k)
		case "Condition":
			s.Conditions, err = parseConditions(val, where)
		default:
			err = invalid("%s: unknown element %q.", where, k)
		}
		if err != nil {
			return s, err
		}
	}
	switch {
	case s.Effect == "":
		return s, invalid("%s has no Effect.", where)
	case has("Principal") == has("NotPrincipal"):
		return s, invalid("%s must have exactly one of Principal and NotPrincipal.", where)
	case has("Action") == has("NotAction"):
		return s, invalid("%s must have exactly one of Action and NotAction.", where)
	case has("Resource") && has("NotResource"):
		return s, invalid("%s may not have both Resource and NotResource.", where)
	}
	return s, nil
}

// stringOrList decodes a string or a non-empty array of strings.
func stringOrList(v json.RawMessage, where, elem string) ([]string, error) {
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil || len(list) == 0 {
		return nil, invalid("%s: %s must be a string or a non-empty array of strings.", where, elem)
	}
	return list, nil
}

// parsePrincipal decodes "*" or {"AWS": ..., "Service": ..., ...}.
func parsePrincipal(v json.RawMessage, where string) (aws []string, other int, err error) {
	var star string
	if json.Unmarshal(v, &star) == nil {
		if star != "*" {
			return nil, 0, invalid("%s: Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}.", where)
		}
		return []string{"*"}, 0, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || len(m) == 0 {
		return nil, 0, invalid("%s: Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}.", where)
	}
	for k, val := range m {
		list, err := stringOrList(val, where, "Principal."+k)
		if err != nil {
			return nil, 0, err
		}
		switch k {
		case "AWS":
			for _, p := range list {
				if !validAWSPrincipal(p) {
					return nil, 0, invalid("%s: invalid principal %q: want \"*\", a 12-digit account id or an arn:aws:iam::ACCOUNT:... ARN.", where, p)
				}
			}
			aws = append(aws, list...)
		case "Service", "Federated", "CanonicalUser":
			other += len(list)
		default:
			return nil, 0, invalid("%s: unknown principal type %q.", where, k)
		}
	}
	return aws, other, nil
}

func validAWSPrincipal(p string) bool {
	if p == "*" || backend.IsAccountID(p) {
		return true
	}
	parts := strings.SplitN(p, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && backend.IsAccountID(parts[4]) && parts[5] != ""
}

// parseConditions decodes {"Operator": {"key": value-or-values}}.
func parseConditions(v json.RawMessage, where string) ([]Condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &ops); err != nil {
		return nil, invalid("%s: Condition must be an object of operators, each an object of keys.", where)
	}
	var out []Condition
	for op, keys := range ops {
		if op == "" || len(keys) == 0 {
			return nil, invalid("%s: condition operator %q has no keys.", where, op)
		}
		for key, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, invalid("%s: condition %s on %s: %v.", where, op, key, err)
			}
			out = append(out, Condition{Operator: op, Key: key, Values: vals})
			if len(out) > MaxConditions {
				return nil, invalid("the policy has more than %d conditions.", MaxConditions)
			}
		}
	}
	return out, nil
}

// conditionValues decodes a condition's value: a string, number or
// boolean, or a non-empty array of them.
func conditionValues(raw json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
			return nil, fmt.Errorf("want a value or a non-empty array of values")
		}
	} else {
		list = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		var x any
		if err := json.Unmarshal(r, &x); err != nil {
			return nil, err
		}
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, fmt.Sprint(x))
		case float64:
			out = append(out, string(bytes.TrimSpace(r)))
		default:
			return nil, fmt.Errorf("values must be strings, numbers or booleans")
		}
	}
	return out, nil
}

// Evaluate decides req under the policy: Denied when a Deny statement
// matches (an explicit deny wins), else Allowed when an Allow statement
// matches, else NotApplicable.
func (p *Policy) Evaluate(req Request) Decision {
	d := NotApplicable
	for i := range p.Statements {
		s := &p.Statements[i]
		if !s.matches(req) {
			continue
		}
		if s.Effect == Deny {
			return Denied
		}
		d = Allowed
	}
	return d
}

func (s *Statement) matches(req Request) bool {
	if s.principalMatches(req.Account) == s.NotPrincipal {
		return false
	}
	if s.actionMatches(req.Action) == s.NotAction {
		return false
	}
	if s.Resources != nil && s.resourceMatches(req.Resource) == s.NotResource {
		return false
	}
	for _, c := range s.Conditions {
		ok, known := c.holds(req.Context)
		if !known {
			// An operator postbox does not implement: fail closed. An
			// Allow does not apply; a Deny does.
			return s.Effect == Deny
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *Statement) principalMatches(account string) bool {
	for _, p := range s.Principals {
		switch {
		case p == "*":
			return true
		case p == account:
			return true
		case p == "arn:aws:iam::"+account+":root":
			return true
		}
	}
	return false
}

func (s *Statement) actionMatches(action string) bool {
	svc, name, _ := strings.Cut(action, ":")
	for _, a := range s.Actions {
		if a == "*" {
			return true
		}
		asvc, aname, _ := strings.Cut(a, ":")
		if strings.EqualFold(asvc, svc) && glob(aname, name, true) {
			return true
		}
	}
	return false
}

func (s *Statement) resourceMatches(arn string) bool {
	for _, r := range s.Resources {
		if glob(r, arn, false) {
			return true
		}
	}
	return false
}

// holds evaluates the condition; known is false for an operator postbox
// does not implement.
func (c Condition) holds(ctx map[string]string) (ok, known bool) {
	op, ifExists := strings.CutSuffix(c.Operator, "IfExists")
	v, present := ctx[strings.ToLower(c.Key)]
	if op == "Null" {
		for _, want := range c.Values {
			if (want == "true") == !present {
				return true, true
			}
		}
		return false, true
	}
	var match func(pattern, value string) bool
	negated := false
	switch op {
	case "StringEquals", "ArnEquals":
		match = func(p, v string) bool { return p == v }
	case "StringNotEquals", "ArnNotEquals":
		match, negated = func(p, v string) bool { return p == v }, true
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringNotEqualsIgnoreCase":
		match, negated = strings.EqualFold, true
	case "StringLike", "ArnLike":
		match = func(p, v string) bool { return glob(p, v, false) }
	case "StringNotLike", "ArnNotLike":
		match, negated = func(p, v string) bool { return glob(p, v, false) }, true
	case "Bool":
		match = strings.EqualFold
	case "IpAddress":
		match = ipMatch
	case "NotIpAddress":
		match, negated = ipMatch, true
	default:
		return false, false
	}
	if !present {
		return ifExists || negated, true
	}
	hit := false
	for _, p := range c.Values {
		if match(p, v) {
			hit = true
			break
		}
	}
	return hit != negated, true
}

// ipMatch reports whether the address v is in the CIDR block (or is the
// address) p.
func ipMatch(p, v string) bool {
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	if pfx, err := netip.ParsePrefix(p); err == nil {
		return pfx.Contains(addr.Unmap())
	}
	a, err := netip.ParseAddr(p)
	return err == nil && a.Unmap() == addr.Unmap()
}

// glob matches s against a pattern of literal characters, '*' (any run)
// and '?' (any one character), optionally ignoring ASCII case.
func glob(pattern, s string, fold bool) bool {
	eq := func(a, b byte) bool {
		if a == b {
			return true
		}
		if !fold {
			return false
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], s[i]))):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
