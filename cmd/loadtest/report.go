package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// printTable writes one line per scenario, then the notes: errors by kind,
// workers that stopped early, and the protected routes against ping.
func printTable(w io.Writer, results []*result) {
	if len(results) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\treq/s\tp50\tp99\tmax\tnon-2xx\terrors\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.name, r.requests, formatRate(r.rps()),
			formatLatency(r.latency.quantile(0.50)), formatLatency(r.latency.quantile(0.99)),
			formatLatency(r.latency.max), formatStatus(r.status), r.errorCount())
	}
	tw.Flush()

	for _, r := range results {
		for _, kind := range slices.Sorted(maps.Keys(r.errors)) {
			fmt.Fprintf(w, "%s: %d× %s\n", r.name, r.errors[kind], kind)
		}
		if r.stopped > 0 {
			fmt.Fprintf(w, "%s: %d worker(s) stopped early: their session was lost\n", r.name, r.stopped)
		}
	}
	var ping *result
	for _, r := range results {
		if r.name == "ping" && r.rps() > 0 {
			ping = r
		}
	}
	if ping == nil {
		return
	}
	var ratios []string
	for _, r := range results {
		if r.name == "me" || r.name == "hello" {
			ratios = append(ratios, fmt.Sprintf("%s/ping %.0f%%", r.name, 100*r.rps()/ping.rps()))
		}
	}
	if len(ratios) > 0 {
		fmt.Fprintln(w, "req/s against ping:", strings.Join(ratios, ", "))
	}
}

// formatRate keeps slow scenarios such as login readable.
func formatRate(rps float64) string {
	switch {
	case rps < 10:
		return fmt.Sprintf("%.2f", rps)
	case rps < 100:
		return fmt.Sprintf("%.1f", rps)
	default:
		return fmt.Sprintf("%.0f", rps)
	}
}

// formatStatus lists non-2xx answers as "401×3 503×1"; "0" for none.
func formatStatus(m map[int]int64) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", code, m[code]))
	}
	return strings.Join(parts, " ")
}

// formatLatency keeps three significant digits or so: µs below a
// millisecond, ms below a second.
func formatLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
