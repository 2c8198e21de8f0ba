package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "drain":
		err = runDrain(args)
	case "idle":
		err = runIdle(args)
	case "report":
		err = runReport(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "consumerlatency %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: consumerlatency drain|idle|report [flags] (see the package documentation)")
	os.Exit(2)
}

// printJSON writes v as one line of JSON on stdout.
func printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", b)
	return err
}
