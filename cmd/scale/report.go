package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// figure is one line of the results: an endpoint, the store time within
// an endpoint's requests, or a store call, at one store and size.
type figure struct {
	Store string `json:"store"`
	Users int    `json:"users"`
	// Kind is "endpoint" (the whole request), "in-store" (the request's
	// time in store calls) or "store" (one store method).
	Kind   string  `json:"kind"`
	Name   string  `json:"name"`
	Count  int     `json:"count"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
	PerSec float64 `json:"per_second"`
}

// results is a run: its settings and figures.
type results struct {
	Started  string         `json:"started"`
	Machine  string         `json:"machine"`
	Sessions int            `json:"sessions_per_user"`
	Expired  float64        `json:"expired_share"`
	Workers  int            `json:"workers"`
	Duration string         `json:"duration_per_round"`
	Rounds   int            `json:"rounds"`
	Hash     string         `json:"hash"`
	Figures  []figure       `json:"figures"`
	Prunes   []pruneResult  `json:"prunes,omitempty"`
	Failures map[string]int `json:"failures,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// quantile is the q-quantile of sorted ds, nearest rank.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	k := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(k, len(ds)-1))]
}

// add puts a bench's figures in, their kinds prefixed with label.
func (r *results) add(b *bench, label string) {
	var all time.Duration
	for _, d := range b.elapsed {
		all += d
	}
	put := func(kind string, s *samples) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for name, ds := range s.m {
			slices.Sort(ds)
			// Throughput over the time of the endpoint's phase; a store
			// call's over the whole time.
			sec := all.Seconds()
			for _, op := range operations {
				if op.name == name && !strings.HasSuffix(kind, "store") {
					sec = b.elapsed[op.phase].Seconds()
				}
			}
			r.Figures = append(r.Figures, figure{Store: b.st.kind, Users: b.st.users, Kind: kind, Name: name, Count: len(ds),
				P50: ms(quantile(ds, .5)), P99: ms(quantile(ds, .99)), P999: ms(quantile(ds, .999)),
				PerSec: math.Round(float64(len(ds))/sec*10) / 10})
		}
	}
	put(label+"endpoint", b.ends)
	put(label+"in-store", b.inStore)
	put(label+"store", b.calls)
	for k, n := range b.fails {
		if r.Failures == nil {
			r.Failures = map[string]int{}
		}
		r.Failures[fmt.Sprintf("%s %d %s", b.st.kind, b.st.users, k)] += n
	}
	sort.Slice(r.Figures, func(i, j int) bool {
		a, c := r.Figures[i], r.Figures[j]
		if a.Store != c.Store {
			return a.Store < c.Store
		}
		if a.Kind != c.Kind {
			return a.Kind < c.Kind
		}
		if a.Name != c.Name {
			return a.Name < c.Name
		}
		return a.Users < c.Users
	})
}

// target is the bound on growth: a figure at the largest size may
// be 1.5 times that at the smallest, or 0.5 ms more, whichever is larger.
func withinTarget(small, large float64) bool {
	return large <= math.Max(1.5*small, small+0.5)
}

// printReport writes a table per store: each figure at each size, and
// whether the largest size's p50 and p99 are within the target of the
// smallest's.
func printReport(w io.Writer, r *results) {
	fmt.Fprintf(w, "%s; %d sessions per user, %.0f%% expired; %d workers, %s x %d rounds per size; argon2id %s\n",
		r.Machine, r.Sessions, r.Expired*100, r.Workers, r.Duration, r.Rounds, r.Hash)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\tkind\tname\tusers\tcount\tper s\tp50 ms\tp99 ms\tp99.9 ms\tp50, p99 vs smallest\t")
	for i, f := range r.Figures {
		verdict := ""
		if i > 0 && r.Figures[i-1].Store == f.Store && r.Figures[i-1].Kind == f.Kind && r.Figures[i-1].Name == f.Name {
			first := i - 1
			for first > 0 && r.Figures[first-1].Store == f.Store && r.Figures[first-1].Kind == f.Kind && r.Figures[first-1].Name == f.Name {
				first--
			}
			s := r.Figures[first]
			verdict = fmt.Sprintf("%s, %s", ratio(s.P50, f.P50), ratio(s.P99, f.P99))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%s\t\n",
			f.Store, f.Kind, f.Name, f.Users, f.Count, f.PerSec, f.P50, f.P99, f.P999, verdict)
	}
	tw.Flush()
	for _, p := range r.Prunes {
		fmt.Fprintf(w, "prune on %s at %d users: removed %d sessions in %.1f s (%.0f/s) while the workload ran (figures of kind prune:)",
			p.Store, p.Users, p.Removed, p.Seconds, float64(p.Removed)/p.Seconds)
		fmt.Fprintf(w, "; live seeded sessions %d before, %d after", p.LiveBefore, p.LiveAfter)
		if p.Stopped {
			fmt.Fprint(w, "; stopped there by -prune-for")
		}
		if p.Error != "" {
			fmt.Fprintf(w, "; error: %s", p.Error)
		}
		fmt.Fprintln(w)
	}
	if len(r.Failures) > 0 {
		keys := make([]string, 0, len(r.Failures))
		for k := range r.Failures {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "unexpected answers:")
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %d\n", k, r.Failures[k])
		}
	}
}

// ratio shows large/small, marked "!" when beyond the target.
func ratio(small, large float64) string {
	mark := ""
	if !withinTarget(small, large) {
		mark = "!"
	}
	if small == 0 {
		return "-" + mark
	}
	return fmt.Sprintf("%.2fx%s", large/small, mark)
}

func writeResults(r *results, path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readResults(path string) (*results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
