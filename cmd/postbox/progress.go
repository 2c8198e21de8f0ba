package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Live rates: the rate shown is over the last rateWindow, and none is shown
// until rateMinSpan has passed; it is recomputed every rateEvery.
const (
	rateWindow  = 5 * time.Second
	rateMinSpan = time.Second
	rateEvery   = 500 * time.Millisecond
)

// progress shows how a long-running command advances, on a terminal only;
// on anything else every method does nothing. A nil *progress is valid.
type progress struct {
	bar        *progressbar.ProgressBar
	desc, unit string

	mu    sync.Mutex // guards the fields below
	n     int64
	rate  *liveRate
	shown time.Time // when the rate was last computed
}

// newProgress returns a progress bar on w for total units (-1: unknown,
// shown as a live counter), or a silent one when w is not a terminal.
func newProgress(w io.Writer, total int64, desc, unit string) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	now := time.Now()
	return &progress{desc: desc, unit: unit, rate: newLiveRate(now, rateWindow, rateMinSpan), shown: now,
		bar: progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)}
}

// Add advances the bar by n.
func (p *progress) Add(n int) {
	if p == nil || p.bar == nil {
		return
	}
	p.mu.Lock()
	p.n += int64(n)
	p.describe()
	p.mu.Unlock()
	p.bar.Add(n)
}

// Set moves the bar to n of total (total may change, as a move task's
// estimate does).
func (p *progress) Set(n, total int64) {
	if p == nil || p.bar == nil {
		return
	}
	if total > 0 && total != p.bar.GetMax64() {
		p.bar.ChangeMax64(total)
	}
	p.mu.Lock()
	p.n = n
	p.describe()
	p.mu.Unlock()
	p.bar.Set64(n)
}

// describe puts the live rate in the bar's description, every rateEvery.
// The bar's own rate (progressbar.OptionShowIts) is not used: before its
// first sample it divides the count by the time since the bar was made,
// microseconds at first. Callers hold mu.
func (p *progress) describe() {
	now := time.Now()
	if now.Sub(p.shown) < rateEvery {
		return
	}
	p.shown = now
	if r, ok := p.rate.observe(now, p.n); ok {
		p.bar.Describe(fmt.Sprintf("%s (%.0f %s/s)", p.desc, r, p.unit))
	}
}

// Finish clears the bar.
func (p *progress) Finish() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
	}
}

// liveRate is the rate of a growing count over the last window of time,
// for a live display. It gives none until minSpan has passed since its
// start: a count divided by the microseconds after the start is nonsense
// (bench's first tick used to show 2,780,095 msg/s).
type liveRate struct {
	window, minSpan time.Duration
	samples         []rateSample // oldest first; samples[0] is the baseline
}

type rateSample struct {
	at time.Time
	n  int64
}

func newLiveRate(start time.Time, window, minSpan time.Duration) *liveRate {
	return &liveRate{window: window, minSpan: minSpan, samples: []rateSample{{at: start}}}
}

// observe records that the count is n at now and returns the rate per
// second since the baseline: the newest sample at least window before now
// (the start until then). ok is false while the baseline is less than
// minSpan before now.
func (r *liveRate) observe(now time.Time, n int64) (perSecond float64, ok bool) {
	r.samples = append(r.samples, rateSample{at: now, n: n})
	for len(r.samples) > 2 && now.Sub(r.samples[1].at) >= r.window {
		r.samples = r.samples[1:]
	}
	base := r.samples[0]
	span := now.Sub(base.at)
	if span < r.minSpan || span <= 0 {
		return 0, false
	}
	return float64(n-base.n) / span.Seconds(), true
}
