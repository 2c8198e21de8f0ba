package consumer

// InlineRuns is how many receives the server's queues ran inline.
func InlineRuns(s *Server) (n int64) {
	for _, sb := range s.subs {
		n += sb.inlineRuns.Load()
	}
	return n
}

// AssumeQuick makes the server's queues take their handlers and their
// flushes for quick from the start, as if many quick calls had been timed:
// received messages run inline whenever a worker is idle, and full batches
// are flushed by whoever fills them. Call it before Run.
func AssumeQuick(s *Server) {
	for _, sb := range s.subs {
		sb.handlerCost.assumeQuick()
		sb.quickFlush = true
	}
}

// RescueWithin is how long an inline run may last at most before the
// watchdog hands its messages not started to the workers.
const RescueWithin = rescueAfter + watchEvery
