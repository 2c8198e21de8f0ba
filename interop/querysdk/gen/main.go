// Command gen writes ../awssqs24: a copy of the main module's AWS adapter
// (backend/awssqs, non-test files) for aws-sdk-go-v2/service/sqs v1.24.5,
// the query-protocol SDK this module pins.
//
// The adapter is written against the current SDK and does not compile
// against v1.24.5, and this module cannot import it without compiling it
// against the pinned SDK. So gen copies it, renames the package, and
// applies the explicit patches listed in the patches table below, each
// with the reason. Every patch must match exactly once: when the adapter
// changes under a patch, gen fails instead of writing a silently different
// copy.
//
// Run it from the module root with go generate (see ../doc.go) or
// go run ./gen.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// patch replaces old by new, exactly once, in one file.
type patch struct {
	file string
	why  string
	old  string
	new  string
}

// patches are the changes the adapter needs to compile and behave the
// same against sqs v1.24.5. Keep them few.
var patches = []patch{
	{
		file: "doc.go",
		why:  "package doc names the copy",
		old:  "// Package awssqs is postbox's AWS adapter:",
		new: "// Package awssqs24 is a generated copy of postbox's AWS adapter\n" +
			"// (backend/awssqs) for aws-sdk-go-v2/service/sqs v1.24.5, which speaks the\n" +
			"// SQS query protocol; see interop/querysdk/README.md. The adapter's own\n" +
			"// documentation follows.\n" +
			"//\n" +
			"// Package awssqs is postbox's AWS adapter:",
	},
	{
		file: "open.go",
		why:  "the copy registers itself under its own import path",
		old:  `const importPath = "github.com/postbox-go/postbox/backend/awssqs"`,
		new:  `const importPath = "github.com/postbox-go/postbox/interop/querysdk/awssqs24"`,
	},
	{
		file: "errors.go",
		why: "v1.24.5 has no modeled types for InvalidAddress, InvalidAttributeValue, " +
			"InvalidSecurity, the Kms* errors and RequestThrottled (they arrived with the JSON " +
			"model); such errors reach modeledCode as *smithy.GenericAPIError and are mapped " +
			"by their query code in normalizeCode, to the same codes",
		old: "\tcase *types.InvalidAddress:\n\t\treturn backend.CodeInvalidAddress, true\n",
		new: "",
	},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.InvalidAttributeValue:\n\t\treturn backend.CodeInvalidAttributeValue, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.InvalidSecurity:\n\t\treturn backend.CodeInvalidSecurity, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsAccessDenied:\n\t\treturn backend.CodeKmsAccessDenied, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsDisabled:\n\t\treturn backend.CodeKmsDisabled, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsInvalidKeyUsage:\n\t\treturn backend.CodeKmsInvalidKeyUsage, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsInvalidState:\n\t\treturn backend.CodeKmsInvalidState, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsNotFound:\n\t\treturn backend.CodeKmsNotFound, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsOptInRequired:\n\t\treturn backend.CodeKmsOptInRequired, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.KmsThrottled:\n\t\treturn backend.CodeKmsThrottled, true\n"},
	{file: "errors.go", why: "see InvalidAddress", old: "\tcase *types.RequestThrottled:\n\t\treturn backend.CodeRequestThrottled, true\n"},
	{
		file: "queue.go",
		why: "v1.24.5's ReceiveMessageInput has no MessageSystemAttributeNames; its " +
			"AttributeNames (the older, deprecated parameter) carries the same names " +
			"(All, SentTimestamp, MessageGroupId, ...), and the server answers it alike",
		old: "\t\tin.MessageSystemAttributeNames = make([]types.MessageSystemAttributeName, len(req.SystemAttributeNames))\n" +
			"\t\tfor i, n := range req.SystemAttributeNames {\n" +
			"\t\t\tin.MessageSystemAttributeNames[i] = types.MessageSystemAttributeName(n)\n",
		new: "\t\tin.AttributeNames = make([]types.QueueAttributeName, len(req.SystemAttributeNames))\n" +
			"\t\tfor i, n := range req.SystemAttributeNames {\n" +
			"\t\t\tin.AttributeNames[i] = types.QueueAttributeName(n)\n",
	},
	{
		file: "zero.go",
		why: "v1.24.5 speaks the query protocol, where explicit zeros go into the form " +
			"body (handleForm, in the hand-written query24.go) rather than the JSON one",
		old: "\tif !ok || !strings.HasPrefix(req.Header.Get(\"Content-Type\"), \"application/x-amz-json\") || req.GetStream() == nil {\n",
		new: "\tif ok && strings.HasPrefix(req.Header.Get(\"Content-Type\"), \"application/x-www-form-urlencoded\") && req.GetStream() != nil {\n" +
			"\t\treturn z.handleForm(ctx, in, req, next)\n" +
			"\t}\n" +
			"\tif !ok || !strings.HasPrefix(req.Header.Get(\"Content-Type\"), \"application/x-amz-json\") || req.GetStream() == nil {\n",
	},
	{
		file: "queue.go",
		why: "v1.24.5 leaves ChangeMessageVisibilityBatchRequestEntry.VisibilityTimeout " +
			"out when 0 (the current SDK always sends it; SQS requires it), so a change " +
			"to 0 would be rejected with MissingParameter: write it in explicitly",
		old: "\tout, err := s.api.ChangeMessageVisibilityBatch(ctx, in)\n",
		new: "\tout, err := s.api.ChangeMessageVisibilityBatch(ctx, in, explicitZeros(nil, \"VisibilityTimeout\", allEntries(len(entries))))\n",
	},
	{
		file: "open.go",
		why: "v1.24.5 drops the <Message> of modeled query-protocol errors " +
			"(QueueDoesNotExist, ...); keepErrorMessages (query24.go) restores it from the body",
		old: "\t\to.BaseEndpoint = aws.String(info.Endpoint)\n",
		new: "\t\to.BaseEndpoint = aws.String(info.Endpoint)\n\t\to.APIOptions = append(o.APIOptions, keepErrorMessages)\n",
	},
	{
		file: "service.go",
		why: "v1.24.5 models StartMessageMoveTask's MaxNumberOfMessagesPerSecond as a " +
			"plain int32 that its serializer leaves out when 0: the same as optional32's nil",
		old: "\t\tMaxNumberOfMessagesPerSecond: optional32(req.MaxNumberOfMessagesPerSecond),\n",
		new: "\t\tMaxNumberOfMessagesPerSecond: clamp32(req.MaxNumberOfMessagesPerSecond),\n",
	},
	{
		file: "service.go",
		why:  "ListMessageMoveTasks' MaxResults is a plain int32 in v1.24.5, left out when 0",
		old:  "\t\tMaxResults: optional32(maxResults),\n\t})\n\tif err != nil {\n\t\treturn nil, mapError(ctx, err)\n\t}\n\ttasks",
		new:  "\t\tMaxResults: clamp32(maxResults),\n\t})\n\tif err != nil {\n\t\treturn nil, mapError(ctx, err)\n\t}\n\ttasks",
	},
	{
		file: "service.go",
		why:  "v1.24.5's ListMessageMoveTasksResultEntry has plain int64/int32 fields where the current SDK has pointers",
		old:  "\t\t\tApproximateNumberOfMessagesToMove: deref(r.ApproximateNumberOfMessagesToMove),\n",
		new:  "\t\t\tApproximateNumberOfMessagesToMove: r.ApproximateNumberOfMessagesToMove,\n",
	},
	{
		file: "service.go",
		why:  "see ApproximateNumberOfMessagesToMove",
		old:  "\t\tif r.MaxNumberOfMessagesPerSecond != nil {\n\t\t\ttasks[i].MaxNumberOfMessagesPerSecond = int(*r.MaxNumberOfMessagesPerSecond)\n",
		new:  "\t\tif r.MaxNumberOfMessagesPerSecond != 0 {\n\t\t\ttasks[i].MaxNumberOfMessagesPerSecond = int(r.MaxNumberOfMessagesPerSecond)\n",
	},
}

// generatedPrefix starts every file gen writes; files without it in the
// output folder (query24.go) are written by hand and left alone.
const generatedPrefix = "// Code generated by interop/querysdk/gen "

// pkgClause is the adapter's package clause.
var pkgClause = regexp.MustCompile(`(?m)^package awssqs$`)

func main() {
	src := flag.String("src", "../../backend/awssqs", "the adapter's directory")
	dst := flag.String("dst", "awssqs24", "the directory to write")
	flag.Parse()
	if err := run(*src, *dst); err != nil {
		log.Fatal(err)
	}
}

func run(src, dst string) error {
	names, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	used := make([]bool, len(patches))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dst, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range old {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte(generatedPrefix)) {
			continue // written by hand (query24.go)
		}
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasSuffix(base, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		text := string(b)
		if n := len(pkgClause.FindAllStringIndex(text, -1)); n != 1 {
			return fmt.Errorf("%s: %d package clauses named awssqs, want 1", base, n)
		}
		text = pkgClause.ReplaceAllString(text, "package awssqs24")
		for i, p := range patches {
			if p.file != base {
				continue
			}
			if n := strings.Count(text, p.old); n != 1 {
				return fmt.Errorf("%s: patch %d (%s) matches %d times, want 1: the adapter changed; update gen", base, i, p.why, n)
			}
			text = strings.Replace(text, p.old, p.new, 1)
			used[i] = true
		}
		var out bytes.Buffer
		fmt.Fprintf(&out, "%sfrom backend/awssqs/%s; DO NOT EDIT.\n\n", generatedPrefix, base)
		out.WriteString(text)
		formatted, err := format.Source(out.Bytes())
		if err != nil {
			return fmt.Errorf("%s: %w", base, err)
		}
		if err := os.WriteFile(filepath.Join(dst, base), formatted, 0o644); err != nil {
			return err
		}
	}
	for i, ok := range used {
		if !ok {
			return fmt.Errorf("patch %d (%s, %s) was not applied: no such file", i, patches[i].file, patches[i].why)
		}
	}
	return nil
}
