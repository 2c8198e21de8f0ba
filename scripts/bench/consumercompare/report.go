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

// baseline is the contender every other one is compared with.
const baseline = "sqs-consumer"

// summary is one contender's results over the rounds.
type summary struct {
	Contender string         `json:"contender"`
	Runs      []float64      `json:"msgs_per_s_runs"`
	Runs999   []float64      `json:"msgs_per_s_999_runs"`
	Seconds   []float64      `json:"seconds_runs"`
	Errors    []int64        `json:"errors_runs"`
	Median    float64        `json:"msgs_per_s_median"`
	Median999 float64        `json:"msgs_per_s_999_median"`
	Min       float64        `json:"msgs_per_s_min"`
	Max       float64        `json:"msgs_per_s_max"`
	Ratio     float64        `json:"ratio_to_sqs_consumer,omitempty"`
	Ratio999  float64        `json:"ratio_999_to_sqs_consumer,omitempty"`
	Paired    []float64      `json:"paired_ratios_to_sqs_consumer,omitempty"`
	Settings  map[string]any `json:"settings"`
}

// report is what the report subcommand prints as JSON.
type report struct {
	Contenders []summary  `json:"contenders"`
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
		s.Runs999 = append(s.Runs999, r.MsgsPerS999)
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
	for _, s := range byName {
		sorted := slices.Sorted(slices.Values(s.Runs))
		s.Median = median(sorted)
		s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
		s.Median999 = median(slices.Sorted(slices.Values(s.Runs999)))
	}
	rep := report{Memory: mem}
	base := byName[baseline]
	for _, name := range order {
		s := byName[name]
		if base != nil && s != base && base.Median > 0 {
			s.Ratio = s.Median / base.Median
			s.Ratio999 = s.Median999 / base.Median999
			for _, rd := range slices.Sorted(maps.Keys(rounds)) {
				a, okA := rounds[rd][name]
				b, okB := rounds[rd][baseline]
				if okA && okB && b > 0 {
					s.Paired = append(s.Paired, a/b)
				}
			}
		}
		rep.Contenders = append(rep.Contenders, *s)
	}

	fmt.Fprintf(out, "| consumer | msgs/s, whole drain, by round | median | x sqs-consumer | msgs/s, first 99.9%%, median | x sqs-consumer | consumer errors by round |\n")
	fmt.Fprintf(out, "|---|---|---|---|---|---|---|\n")
	for _, s := range rep.Contenders {
		ratio, ratio999 := "1", "1"
		if s.Ratio > 0 {
			ratio, ratio999 = fmt.Sprintf("%.1f", s.Ratio), fmt.Sprintf("%.1f", s.Ratio999)
		}
		fmt.Fprintf(out, "| %s | %s | %.0f | %s | %.0f | %s | %s |\n",
			s.Contender, join(s.Runs, "%.0f"), s.Median, ratio, s.Median999, ratio999, join(s.Errors, "%d"))
	}
	for _, s := range rep.Contenders {
		if len(s.Paired) > 0 {
			fmt.Fprintf(out, "\n%s / sqs-consumer by round (whole drain): %s", s.Contender, join(s.Paired, "%.1f"))
		}
	}
	fmt.Fprintln(out)
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

func join[T any](vs []T, format string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf(format, v)
	}
	return strings.Join(parts, ", ")
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
