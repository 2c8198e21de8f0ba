package awssqs

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// QueueURLInfo is what a queue URL says: where to send requests and which
// queue they are about.
type QueueURLInfo struct {
	// URL is the queue URL (scheme://host[:port]/ACCOUNT/NAME, host in
	// lower case): the QueueUrl of every call.
	URL string
	// Endpoint is where requests go (scheme://host[:port]). For AWS it is
	// the regional SQS endpoint of the URL's host form: the legacy
	// queue.amazonaws.com forms map to https://sqs.REGION.amazonaws.com;
	// FIPS and VPC endpoint hosts are kept as they are.
	Endpoint string
	// AWS is true for an AWS SQS host; false for any other host, taken to
	// be an SQS-compatible endpoint such as postbox serve.
	AWS bool
	// Region is the AWS region the host names; empty for other endpoints.
	Region string
	// AccountID is the URL's first path segment.
	AccountID string
	// Name is the queue name, the URL's second path segment.
	Name string
	// FIFO is true when Name ends in ".fifo".
	FIFO bool
}

// awsSuffixes are the DNS suffixes of AWS partitions that SQS has hosts in.
var awsSuffixes = []string{".amazonaws.com.cn", ".amazonaws.com", ".api.aws"}

// awsHostForms lists the AWS host forms, for error messages.
const awsHostForms = "sqs.REGION.amazonaws.com, sqs-fips.REGION.amazonaws.com, sqs.REGION.amazonaws.com.cn, " +
	"sqs.REGION.api.aws, queue.amazonaws.com, REGION.queue.amazonaws.com, vpce-ID.sqs.REGION.vpce.amazonaws.com"

// ParseQueueURL parses a queue URL:
//
//	https://sqs.REGION.amazonaws.com/ACCOUNT/NAME        AWS
//	https://sqs-fips.REGION.amazonaws.com/ACCOUNT/NAME   AWS, FIPS endpoint
//	https://sqs.REGION.amazonaws.com.cn/ACCOUNT/NAME     AWS China
//	https://sqs.REGION.api.aws/ACCOUNT/NAME              AWS, dual-stack endpoint
//	https://queue.amazonaws.com/ACCOUNT/NAME             AWS (legacy), us-east-1
//	https://REGION.queue.amazonaws.com/ACCOUNT/NAME      AWS (legacy)
//	https://vpce-ID.sqs.REGION.vpce.amazonaws.com/ACCOUNT/NAME   AWS, VPC endpoint
//	http(s)://HOST[:PORT]/ACCOUNT/NAME                   an SQS-compatible endpoint
//
// AWS URLs must use https and a 12-digit account. The queue name is 1-80
// alphanumerics, hyphens and underscores, a FIFO queue's ending in ".fifo".
// A URL with user information, a query or a fragment is rejected. Errors
// say what is wrong.
func ParseQueueURL(rawURL string) (QueueURLInfo, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return QueueURLInfo{}, fmt.Errorf("awssqs: malformed queue URL %q: %w", rawURL, err)
	}
	return parseURL(u)
}

func parseURL(u *url.URL) (QueueURLInfo, error) { return parse(u, false) }

// parse parses a queue URL or, when endpointOK, also a bare endpoint
// (scheme://HOST[:PORT], no path), whose info has no URL, account or name.
func parse(u *url.URL, endpointOK bool) (QueueURLInfo, error) {
	raw := u.String()
	what := "queue URL"
	if endpointOK {
		what = "endpoint URL"
	}
	bad := func(format string, args ...any) (QueueURLInfo, error) {
		return QueueURLInfo{}, fmt.Errorf("awssqs: %s %q %s", what, raw, fmt.Sprintf(format, args...))
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("has scheme %q; want http or https", u.Scheme)
	case u.Opaque != "":
		return bad("is not hierarchical; want %s://HOST/ACCOUNT/NAME", scheme)
	case u.Host == "":
		return bad("has no host; want %s://HOST/ACCOUNT/NAME", scheme)
	case u.User != nil:
		return bad("has user information; put credentials in the environment or the AWS config, not the URL")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("has a query (%q); a queue URL is only scheme://HOST/ACCOUNT/NAME", u.RawQuery)
	case u.Fragment != "":
		return bad("has a fragment (%q); a queue URL is only scheme://HOST/ACCOUNT/NAME", u.Fragment)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return bad("has no host name; want %s://HOST/ACCOUNT/NAME", scheme)
	}
	var info QueueURLInfo
	region, endpoint, isAWS, msg := awsHost(host)
	if isAWS {
		switch {
		case msg != "":
			return bad("%s", msg)
		case scheme != "https":
			return bad("names an AWS host over %s; AWS SQS URLs use https", scheme)
		case u.Port() != "" && u.Port() != "443":
			return bad("names an AWS host with port %s; AWS SQS listens on 443", u.Port())
		}
		info.AWS, info.Region, info.Endpoint = true, region, endpoint
	} else {
		info.Endpoint = scheme + "://" + host
		if p := u.Port(); p != "" {
			info.Endpoint = scheme + "://" + net.JoinHostPort(host, p)
		}
	}
	// The URL keeps the host it names (a legacy or VPC endpoint host stays
	// as it is); requests go to Endpoint.
	origin := info.Endpoint
	if isAWS {
		origin = "https://" + host
	}

	path := u.EscapedPath()
	if path == "" || path == "/" {
		if endpointOK {
			return info, nil
		}
		return bad("has no account and queue name; want %s://%s/ACCOUNT/NAME", scheme, u.Host)
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(segs) == 1:
		return bad("has one path segment (%q); want /ACCOUNT/NAME", segs[0])
	case len(segs) == 3 && segs[2] == "":
		return bad("ends in a slash; want /ACCOUNT/NAME with nothing after the name")
	case len(segs) > 2:
		return bad("has %d path segments; want exactly two, /ACCOUNT/NAME", len(segs))
	}
	account, name := segs[0], segs[1]
	switch {
	case account == "":
		return bad("has an empty account segment; want /ACCOUNT/NAME")
	case isAWS && !isAWSAccount(account):
		return bad("has account %q; an AWS account is 12 digits", account)
	case !isAccountSegment(account):
		return bad("has account segment %q; want letters, digits, '-' or '_'", account)
	}
	if msg := checkQueueName(name); msg != "" {
		return bad("%s", msg)
	}
	info.AccountID, info.Name, info.FIFO = account, name, strings.HasSuffix(name, ".fifo")
	info.URL = origin + "/" + account + "/" + name
	return info, nil
}

// awsHost recognises an AWS SQS host. isAWS is true for any host under an
// AWS domain; msg is non-empty when it is not one of the SQS host forms.
func awsHost(host string) (region, endpoint string, isAWS bool, msg string) {
	var suffix string
	for _, s := range awsSuffixes {
		if strings.HasSuffix(host, s) {
			suffix = s
			break
		}
	}
	if suffix == "" {
		return "", "", false, ""
	}
	unknown := fmt.Sprintf("names AWS host %q, which is not an SQS host form (want %s)", host, awsHostForms)
	labels := strings.Split(strings.TrimSuffix(host, suffix), ".")
	https := func(h string) string { return "https://" + h }
	switch {
	case suffix == ".amazonaws.com" && host == "queue.amazonaws.com":
		return "us-east-1", https("sqs.us-east-1.amazonaws.com"), true, ""
	case len(labels) == 2 && labels[1] == "queue" && suffix != ".api.aws":
		// REGION.queue.amazonaws.com(.cn), the legacy form.
		if !isRegion(labels[0]) {
			return "", "", true, badRegion(host, labels[0])
		}
		return labels[0], https("sqs." + labels[0] + suffix), true, ""
	case len(labels) == 2 && (labels[0] == "sqs" || labels[0] == "sqs-fips"):
		if !isRegion(labels[1]) {
			return "", "", true, badRegion(host, labels[1])
		}
		if suffix == ".amazonaws.com.cn" && !strings.HasPrefix(labels[1], "cn-") {
			return "", "", true, fmt.Sprintf("names China host %q with non-China region %q", host, labels[1])
		}
		return labels[1], https(host), true, ""
	case suffix == ".amazonaws.com" && len(labels) == 4 && labels[1] == "sqs" && labels[3] == "vpce" &&
		strings.HasPrefix(labels[0], "vpce-") && len(labels[0]) > len("vpce-"):
		// vpce-ID[-AZ].sqs.REGION.vpce.amazonaws.com
		if !isRegion(labels[2]) {
			return "", "", true, badRegion(host, labels[2])
		}
		return labels[2], https(host), true, ""
	}
	return "", "", true, unknown
}

func badRegion(host, region string) string {
	return fmt.Sprintf("names AWS host %q whose region %q is not a region name (like us-east-1)", host, region)
}

// isRegion reports whether s looks like an AWS region: two or more
// lower-case words and a number, joined by hyphens (us-east-1,
// us-gov-west-1, cn-north-1).
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		last := i == len(parts)-1
		for _, c := range []byte(p) {
			if last && (c < '0' || c > '9') || !last && (c < 'a' || c > 'z') {
				return false
			}
		}
	}
	return true
}

func isAWSAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isAccountSegment(s string) bool {
	for _, c := range []byte(s) {
		if !isNameChar(c) {
			return false
		}
	}
	return s != ""
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// checkQueueName returns what is wrong with a queue name, or "".
func checkQueueName(name string) string {
	if name == "" {
		return "has an empty queue name; want /ACCOUNT/NAME"
	}
	if len(name) > 80 {
		return fmt.Sprintf("has a queue name of %d characters; the most is 80 (\".fifo\" included)", len(name))
	}
	base := strings.TrimSuffix(name, ".fifo")
	if base == "" {
		return "has queue name \".fifo\"; a FIFO queue's name needs at least one character before \".fifo\""
	}
	for i := 0; i < len(base); i++ {
		if !isNameChar(base[i]) {
			return fmt.Sprintf("has queue name %q with character %q; names are alphanumerics, '-' and '_' (and a final \".fifo\")", name, base[i])
		}
	}
	return ""
}
