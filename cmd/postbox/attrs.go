package main

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// parsePairs parses KEY=VALUE arguments (VALUE may contain '='); what names
// them in errors.
func parsePairs(what string, args []string) (map[string]string, error) {
	out := make(map[string]string, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usageErrorf("%s %q: want KEY=VALUE", what, a)
		}
		if _, dup := out[k]; dup {
			return nil, usageErrorf("%s %q given twice", what, k)
		}
		out[k] = v
	}
	return out, nil
}

// parseMessageAttrs parses --attr values: NAME=VALUE is a String attribute;
// NAME:TYPE=VALUE gives the data type (Number, String, Binary, or one with a
// custom suffix such as Number.int); a Binary value is base64.
func parseMessageAttrs(args []string) (map[string]backend.MessageAttributeValue, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make(map[string]backend.MessageAttributeValue, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--attr %q: want NAME=VALUE or NAME:TYPE=VALUE", a)
		}
		name, typ, typed := strings.Cut(k, ":")
		if !typed {
			typ = "String"
		}
		if name == "" || typ == "" {
			return nil, usageErrorf("--attr %q: want NAME=VALUE or NAME:TYPE=VALUE", a)
		}
		if _, dup := out[name]; dup {
			return nil, usageErrorf("--attr %q given twice", name)
		}
		base, _, _ := strings.Cut(typ, ".")
		mv := backend.MessageAttributeValue{DataType: typ}
		switch base {
		case "String", "Number":
			mv.StringValue = v
		case "Binary":
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, usageErrorf("--attr %s: a Binary value is base64: %v", name, err)
			}
			mv.BinaryValue = b
		default:
			return nil, usageErrorf("--attr %s: type %q: want String, Number or Binary (optionally with a .suffix)", name, typ)
		}
		out[name] = mv
	}
	return out, nil
}

// optionalSeconds is a flag of whole seconds that may be left unset (nil),
// meaning the queue's default; set, it is 0 or more.
type optionalSeconds struct{ v *int }

// String implements pflag.Value; an unset flag prints as "".
func (o *optionalSeconds) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.Itoa(*o.v)
}

// Set implements pflag.Value.
func (o *optionalSeconds) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want whole seconds, 0 or more")
	}
	o.v = &n
	return nil
}

// Type implements pflag.Value.
func (o *optionalSeconds) Type() string { return "seconds" }
