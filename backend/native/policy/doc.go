// Package policy parses, validates and evaluates SQS queue policies: the
// subset of the IAM policy language that an SQS queue's Policy attribute
// (and AddPermission, which writes statements into it) uses.
//
// The subset:
//
//   - Version "2012-10-17" or "2008-10-17", Id, and Statement (one object
//     or an array).
//   - Per statement: Sid (unique), Effect "Allow" or "Deny", exactly one of
//     Principal / NotPrincipal, exactly one of Action / NotAction, and
//     Resource or NotResource (optional: none means any resource).
//   - Principal "*", or {"AWS": P} with P "*", a 12-digit account id,
//     an arn:aws:iam::ACCOUNT:... ARN, or an array of them. A caller of
//     postbox serve is the account of its credentials, so it matches "*",
//     its account id and arn:aws:iam::ACCOUNT:root; user and role ARNs
//     never match. Service, Federated and CanonicalUser principals are
//     accepted (and counted towards the limit) but match no caller.
//   - Action "sqs:SendMessage", "sqs:*", "sqs:Send*", "SQS:ReceiveMessage"
//     or "*": the service prefix and the action name are matched without
//     regard to case, with '*' and '?' wildcards.
//   - Resource a queue ARN with '*' and '?' wildcards (case-sensitive).
//   - Condition operators StringEquals, StringNotEquals,
//     StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
//     StringNotLike, ArnEquals, ArnNotEquals, ArnLike, ArnNotLike, Bool,
//     IpAddress, NotIpAddress and Null, each also with the IfExists
//     suffix; keys are matched without regard to case; a condition with
//     several values holds when any value matches (none, for the negated
//     operators). A key absent from the request fails a positive operator
//     and passes a negated one (IfExists passes both). Other operators
//     (Numeric*, Date*, ForAnyValue:..., ...) are accepted when the policy
//     is set but fail closed: an Allow statement with one never applies, a
//     Deny statement with one always does.
//
// Limits, as SQS's: 8,192 bytes, 20 statements, 50 principals and 10
// conditions per policy. Validate enforces them and the grammar above.
//
// Evaluation (Policy.Evaluate): a matching Deny wins; otherwise a matching
// Allow allows; otherwise the policy does not apply.
//
// # Errors
//
// Parse and Validate return an InvalidAttributeValue *backend.Error
// ("Invalid value for the parameter Policy. Reason: ...") for a policy SQS
// would refuse.
package policy
