package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"
)

// measure seeds and measures every store at every size.
func measure(ctx context.Context, o *options, stdout, stderr io.Writer) (*results, error) {
	hash, err := precomputedHash(ctx, hashParams(o.hash))
	if err != nil {
		return nil, fmt.Errorf("hash the password: %w", err)
	}
	res := &results{
		Started:  time.Now().UTC().Format(time.RFC3339),
		Machine:  fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Sessions: o.sessions, Expired: o.expired, Workers: o.workers,
		Duration: o.duration.String(), Rounds: o.rounds, Hash: o.hash,
	}
	for _, kind := range o.stores {
		benches := make([]*bench, 0, len(o.sizes))
		closeAll := func() {
			for _, b := range benches {
				b.st.close()
			}
		}
		for _, users := range o.sizes {
			st, err := openStore(ctx, o, kind, users)
			if err != nil {
				closeAll()
				return nil, err
			}
			if err := seed(ctx, o, st, hash, stderr); err != nil {
				st.close()
				closeAll()
				return nil, err
			}
			if o.seedOnly {
				st.close()
				continue
			}
			b, err := newBench(ctx, o, st)
			if err != nil {
				st.close()
				closeAll()
				return nil, err
			}
			benches = append(benches, b)
		}
		// Alternate the sizes: up in even rounds, down in odd ones, so that
		// a drift in the machine's load does not favour one size.
		for r := range o.rounds {
			order := slices.Clone(benches)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, b := range order {
				if err := ctx.Err(); err != nil {
					closeAll()
					return nil, err
				}
				fmt.Fprintf(stderr, "round %d/%d: %s at %d users, %s each phase\n", r+1, o.rounds, kind, b.st.users, o.duration)
				b.run(ctx, mixed, o.workers, o.duration, stderr)
				b.run(ctx, hashing, runtime.GOMAXPROCS(0), o.duration, stderr)
			}
		}
		for _, b := range benches {
			res.add(b, "")
		}
		if o.prune {
			b := benches[len(benches)-1]
			fmt.Fprintf(stderr, "%s at %d users: pruning while the workload runs\n", kind, b.st.users)
			p := b.prune(ctx, o.workers, o.pruneFor, stderr)
			res.Prunes = append(res.Prunes, p)
			res.add(b, "prune:")
		}
		closeAll()
	}
	if o.label != "" {
		for i := range res.Figures {
			res.Figures[i].Store += ", " + o.label
		}
		for i := range res.Prunes {
			res.Prunes[i].Store += ", " + o.label
		}
	}
	return res, nil
}
