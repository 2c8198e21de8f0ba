package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// runReport reads results.jsonl on stdin and prints the Markdown tables
// and the JSON of everything.
func runReport(args []string) error {
	var drains []drainResult
	var idles []idleResult
	var raw []json.RawMessage
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var kind struct{ Kind string }
		if err := json.Unmarshal([]byte(line), &kind); err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		switch kind.Kind {
		case "drain":
			var d drainResult
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				return err
			}
			drains = append(drains, d)
		case "idle":
			var r idleResult
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return err
			}
			idles = append(idles, r)
		default:
			continue
		}
		raw = append(raw, json.RawMessage(line))
	}
	if err := sc.Err(); err != nil {
		return err
	}

	var scenarios []string
	by := map[string]map[string][]drainResult{}
	for _, d := range drains {
		if by[d.Scenario] == nil {
			by[d.Scenario] = map[string][]drainResult{}
			scenarios = append(scenarios, d.Scenario)
		}
		by[d.Scenario][d.Contender] = append(by[d.Scenario][d.Contender], d)
	}
	who := []string{"postbox", "gocloud", "handloop"}
	type summary struct {
		Scenario       string             `json:"scenario"`
		Median         map[string]float64 `json:"median_msgs_per_s"`
		Ideal          *float64           `json:"ideal_msgs_per_s,omitempty"`
		PostboxGocloud float64            `json:"postbox_over_gocloud"`
		PostboxIdeal   *float64           `json:"postbox_over_ideal,omitempty"`
	}
	var sums []summary
	if len(scenarios) > 0 {
		fmt.Println("| scenario | postbox msgs/s (median) | gocloud | handloop | ideal (C/handler) | postbox/gocloud | postbox/ideal |")
		fmt.Println("|---|---|---|---|---|---|---|")
	}
	for _, s := range scenarios {
		sum := summary{Scenario: s, Median: map[string]float64{}}
		for _, w := range who {
			if rs := by[s][w]; len(rs) > 0 {
				sum.Median[w] = median(rs)
				if sum.Ideal == nil {
					sum.Ideal = rs[0].Ideal
				}
			}
		}
		if g := sum.Median["gocloud"]; g > 0 {
			sum.PostboxGocloud = sum.Median["postbox"] / g
		}
		idealS, pi := "—", "—"
		if sum.Ideal != nil {
			idealS = num(*sum.Ideal)
			v := sum.Median["postbox"] / *sum.Ideal
			sum.PostboxIdeal = &v
			pi = fmt.Sprintf("%.0f%%", v*100)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %.2f | %s |\n", s, num(sum.Median["postbox"]), num(sum.Median["gocloud"]),
			num(sum.Median["handloop"]), idealS, sum.PostboxGocloud, pi)
		sums = append(sums, sum)
	}
	if len(scenarios) > 0 {
		fmt.Println()
		fmt.Println("| scenario | contender | msgs/s by round | receives | deletes | connections | shutdown s | left | errors |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|")
		for _, s := range scenarios {
			for _, w := range who {
				rs := by[s][w]
				if len(rs) == 0 {
					continue
				}
				var rates, recv, del, conns, stop []string
				left, errs := 0, int64(0)
				for _, r := range rs {
					rates = append(rates, num(r.MsgsPerS))
					recv = append(recv, fmt.Sprint(r.Requests["ReceiveMessage"]))
					del = append(del, fmt.Sprint(r.Requests["DeleteMessageBatch"]+r.Requests["DeleteMessage"]))
					conns = append(conns, fmt.Sprint(r.Connections))
					stop = append(stop, fmt.Sprintf("%.2f", r.StopSeconds))
					left += r.Left
					errs += r.Errors
				}
				fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %d | %d |\n", s, w, strings.Join(rates, ", "),
					strings.Join(recv, ", "), strings.Join(del, ", "), strings.Join(conns, ", "), strings.Join(stop, ", "), left, errs)
			}
		}
	}
	if len(idles) > 0 {
		fmt.Println()
		fmt.Println("| idle (empty queue) | seconds | rtt ms | C | ReceiveMessage | per minute | all requests | connections |")
		fmt.Println("|---|---|---|---|---|---|---|---|")
		for _, r := range idles {
			var all int64
			for _, v := range r.Requests {
				all += v
			}
			fmt.Printf("| %s | %.0f | %g | %d | %d | %.1f | %d | %d |\n", r.Contender, r.Seconds, r.RTTMs, r.Concurrency,
				r.Receives, r.ReceivesPerMin, all, r.Connections)
		}
	}
	fmt.Println()
	b, err := json.MarshalIndent(map[string]any{"summary": sums, "results": raw}, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

func median(rs []drainResult) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.MsgsPerS
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// num formats a rate with thousands separators, no decimals.
func num(v float64) string {
	if v == 0 {
		return "—"
	}
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
