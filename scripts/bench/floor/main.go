// Command floor serves the canned-answer floor of the wire benchmarks
// (internal/benchfloor) on a loopback port, for scripts/bench/run-wrk. It
// prints "listening http://ADDR" once it serves.
//
//	go run ./scripts/bench/floor -addr 127.0.0.1:0
//
// With -postbox it serves the native engine in memory instead, as
// `postbox serve` does (same server, same HTTP limits, no dashboard), and
// with -pprof ADDR it serves net/http/pprof there too: for profiling the
// server under wrk, e.g.
//
//	go run ./scripts/bench/floor -postbox -pprof 127.0.0.1:6060
//	curl -o cpu.pprof 'http://127.0.0.1:6060/debug/pprof/profile?seconds=5'
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/internal/benchfloor"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	postbox := flag.Bool("postbox", false, "serve the native engine (as postbox serve does) instead of the floor")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	hs := &http.Server{Handler: benchfloor.Handler(base)}
	if *postbox {
		eng, err := native.New(native.Config{BaseURL: base})
		if err != nil {
			log.Fatal(err)
		}
		srv, err := server.New(server.Config{Service: eng})
		if err != nil {
			log.Fatal(err)
		}
		hs.Handler = srv
		server.HTTPLimits{}.Apply(hs)
	}
	if *pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		go func() { log.Fatal(http.ListenAndServe(*pprofAddr, mux)) }()
	}
	fmt.Println("listening", base)
	log.Fatal(hs.Serve(ln))
}
