// Package querysdk runs postbox's backend conformance suite over the SQS
// query protocol: the AWS adapter, regenerated for aws-sdk-go-v2/service/sqs
// v1.24.5 (the last line that speaks the query protocol; JSON arrived in
// v1.28), against postbox's wire server over real HTTP on loopback. See
// README.md.
//
// The package has no API of its own: its tests are the point.
package querysdk

//go:generate go run ./gen
