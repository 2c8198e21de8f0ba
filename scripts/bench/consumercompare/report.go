package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// summary is one contender's results over the rounds.
type summary struct {
	Contender string         `json:"contender"`
	Runs      []float64      `json:"msgs_per_s_runs"`
	Seconds   []float64      `json:"seconds_runs"`
	Errors    []int64        `json:"errors_runs"`
	Median    float64        `json:"msgs_per_s_median"`
	Min       float64        `json:"msgs_per_s_min"`
	Max       float64        `json:"msgs_per_s_max"`
	Settings  map[string]any `json:"settings"`
}

// report is what the report subcommand prints as JSON.
type report struct {
	Contenders []summary  `json:"contenders"`
	Ratio      float64    `json:"ratio_postbox_over_sqs_consumer"`
	PairRatios []float64  `json:"paired_ratios"`
	Memory     *memResult `json:"memory,omitempty"`
}

func runReport([]string) error {
	return writeReport(os.Stdin, os.Stdout)
}

func writeReport(in io.Reader, out io.Writer) error {
	byName := map[string]*summary{}
	var order []string
	rounds := map[int]map[string]float64{}
	var mem *memResult
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.Contains(line, `"rss_before_kib"`) {
			mem = new(memResult)
			if err := json.Unmarshal([]byte(line), mem); err != nil {
				return err
			}
			continue
		}
		var r drainResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("bad result line %q: %w", line, err)
		}
		if r.Left != 0 {
			return fmt.Errorf("%s round %d left %d messages in the queue", r.Contender, r.Round, r.Left)
		}
		s := byName[r.Contender]
		if s == nil {
			s = &summary{Contender: r.Contender, Settings: r.Settings}
			byName[r.Contender] = s
			order = append(order, r.Contender)
		}
		s.Runs = append(s.Runs, r.MsgsPerS)
		s.Seconds = append(s.Seconds, r.Seconds)
		s.Errors = append(s.Errors, r.Errors)
		if rounds[r.Round] == nil {
			rounds[r.Round] = map[string]float64{}
		}
		rounds[r.Round][r.Contender] = r.MsgsPerS
	}
	if err := sc.Err(); err != nil {
		return err
	}
	rep := report{Memory: mem}
	for _, name := range order {
		s := byName[name]
		sorted := slices.Sorted(slices.Values(s.Runs))
		s.Median = median(sorted)
		s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
		rep.Contenders = append(rep.Contenders, *s)
	}
	pb, sc2 := byName["postbox"], byName["sqs-consumer"]
	if pb != nil && sc2 != nil && sc2.Median > 0 {
		rep.Ratio = pb.Median / sc2.Median
		for _, rd := range slices.Sorted(maps.Keys(rounds)) {
			a, okA := rounds[rd]["postbox"]
			b, okB := rounds[rd]["sqs-consumer"]
			if okA && okB && b > 0 {
				rep.PairRatios = append(rep.PairRatios, a/b)
			}
		}
	}

	fmt.Fprintf(out, "| consumer | runs in round order (msgs/s) | median msgs/s | min | max | consumer errors per run |\n|---|---|---|---|---|---|\n")
	for _, s := range rep.Contenders {
		runs := make([]string, len(s.Runs))
		for i, v := range s.Runs {
			runs[i] = fmt.Sprintf("%.0f", v)
		}
		errs := make([]string, len(s.Errors))
		for i, v := range s.Errors {
			errs[i] = fmt.Sprint(v)
		}
		fmt.Fprintf(out, "| %s | %s | %.0f | %.0f | %.0f | %s |\n", s.Contender, strings.Join(runs, ", "), s.Median, s.Min, s.Max, strings.Join(errs, ", "))
	}
	if rep.Ratio > 0 {
		pr := make([]string, len(rep.PairRatios))
		for i, v := range rep.PairRatios {
			pr[i] = fmt.Sprintf("%.1f", v)
		}
		fmt.Fprintf(out, "\nratio postbox / sqs-consumer (medians): %.1fx; per round: %s\n", rep.Ratio, strings.Join(pr, ", "))
	}
	if mem != nil {
		fmt.Fprintf(out, "\npostbox serve memory, %d queued %d B messages (GOGC=%s):\n", mem.Messages, mem.Size, mem.GOGC)
		fmt.Fprintf(out, "  live heap %d -> %d MB: %.0f B/msg, %.0f B beyond the body\n", mem.HeapBeforeMB, mem.HeapAfterMB, mem.HeapPerMsg, mem.HeapBeyondBody)
		fmt.Fprintf(out, "  VmRSS %d -> %d KiB: %.0f B/msg, %.0f B beyond the body\n", mem.RSSBeforeKiB, mem.RSSAfterKiB, mem.RSSPerMsg, mem.RSSBeyondBody)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s\n", b)
	return nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
