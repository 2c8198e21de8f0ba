package main

import (
	"io"
	"os"
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

// progress shows how a long-running command advances, on a terminal only;
// on anything else every method does nothing. A nil *progress is valid.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a progress bar on w for total units (-1: unknown,
// shown as a live counter), or a silent one when w is not a terminal.
func newProgress(w io.Writer, total int64, desc, unit string) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// Add advances the bar by n.
func (p *progress) Add(n int) {
	if p != nil && p.bar != nil {
		p.bar.Add(n)
	}
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
	p.bar.Set64(n)
}

// Finish clears the bar.
func (p *progress) Finish() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
	}
}
