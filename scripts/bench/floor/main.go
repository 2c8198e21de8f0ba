// Command floor serves the canned-answer floor of the wire benchmarks
// (internal/benchfloor) on a loopback port, for scripts/bench/run-wrk. It
// prints "listening http://ADDR" once it serves.
//
//	go run ./scripts/bench/floor -addr 127.0.0.1:0
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/postbox-go/postbox/internal/benchfloor"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Println("listening", base)
	log.Fatal(http.Serve(ln, benchfloor.Handler(base)))
}
