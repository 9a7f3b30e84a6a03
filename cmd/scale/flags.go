package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits on the flags, so that a typo cannot start a day-long run.
const (
	maxUsers    = 10_000_000
	maxSessions = 100
	maxWorkers  = 256
	maxTokens   = 10_000
	maxDuration = 10 * time.Minute
	maxRounds   = 20
)

var storeKinds = []string{"mem", "sqlite", "postgres", "mysql"}

var errHelp = errors.New("help")

// options is what the flags say.
type options struct {
	stores   []string
	sizes    []int // users
	sessions int   // per user
	expired  float64
	workers  int
	tokens   int // logged-in users whose access tokens the workload uses
	duration time.Duration
	rounds   int
	hash     string
	dir      string // SQLite files
	pgDSN    string
	myDSN    string
	json     string
	svg      string
	plotOnly string
	quiet    bool   // no progress bar
	label    string // added to the store names in the figures
	seedOnly bool
	prune    bool
	pruneFor time.Duration // 0: until the prune ends
	// namePrefix starts the names of the databases, schemas and SQLite
	// files; tests set their own.
	namePrefix string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fl := flag.NewFlagSet("scale", flag.ContinueOnError)
	fl.SetOutput(stderr)
	o := options{namePrefix: "gatehouse_scale_"}
	var stores, sizes string
	fl.StringVar(&stores, "stores", "sqlite", "stores to measure, comma-separated: "+strings.Join(storeKinds, ", "))
	fl.StringVar(&sizes, "sizes", "1000,100000", "data sizes in users, comma-separated, smallest first")
	fl.IntVar(&o.sessions, "sessions", 10, "sessions per user")
	fl.Float64Var(&o.expired, "expired", 0.5, "share of the sessions that expired")
	fl.IntVar(&o.workers, "c", 8, "concurrent workers")
	fl.IntVar(&o.tokens, "tokens", 256, "seeded users logged in before the workload, whose access tokens it uses")
	fl.DurationVar(&o.duration, "d", 15*time.Second, "duration of each size's workload in each round")
	fl.IntVar(&o.rounds, "rounds", 2, "rounds; each runs every size once, alternating")
	fl.StringVar(&o.hash, "hash", "owasp", "argon2id parameters: owasp (m=19 MiB, t=2, p=1) or default (m=64 MiB, t=3, p=4)")
	fl.StringVar(&o.dir, "dir", "scale-data", "directory of the SQLite files")
	fl.StringVar(&o.pgDSN, "postgres", os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN"), "PostgreSQL URL (default $GATEHOUSE_TEST_POSTGRES_DSN); each size gets a schema")
	fl.StringVar(&o.myDSN, "mysql", os.Getenv("GATEHOUSE_TEST_MYSQL_DSN"), "MySQL/MariaDB DSN (default $GATEHOUSE_TEST_MYSQL_DSN); each size gets a database")
	fl.StringVar(&o.json, "json", "", "write the figures to this JSON file")
	fl.StringVar(&o.svg, "svg", "", "write the chart of p99 against data size to this SVG file")
	fl.StringVar(&o.plotOnly, "plot", "", "only draw the chart (-svg) from this JSON file of an earlier run")
	fl.BoolVar(&o.quiet, "q", false, "no progress bar")
	fl.StringVar(&o.label, "label", "", `added to each store's name in the figures and the chart, such as "4 GiB pool" for a run with other database settings`)
	fl.BoolVar(&o.seedOnly, "seed", false, "only seed the stores to the sizes, and measure nothing")
	fl.DurationVar(&o.pruneFor, "prune-for", 0, "with -prune, stop the prune after this long (0: let it finish); it reports how many sessions it removed by then")
	fl.BoolVar(&o.prune, "prune", false, "at the end, prune the largest size's sessions while the workload runs; the seeded expired sessions are then gone, and seeding refuses to fill the gap with live ones: drop that database before seeding it again")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: scale [-stores sqlite,postgres,mysql,mem] [-sizes 1000,100000] [-d 15s] [-rounds 2] [-json FILE] [-svg FILE]")
		fmt.Fprintln(stderr, "       scale -plot FILE.json -svg FILE.svg")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	if o.plotOnly != "" {
		if o.svg == "" {
			return nil, errors.New("-plot needs -svg")
		}
		return &o, nil
	}
	for s := range strings.SplitSeq(stores, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(storeKinds, s) {
			return nil, fmt.Errorf("-stores: unknown store %q: want %s", s, strings.Join(storeKinds, ", "))
		}
		if slices.Contains(o.stores, s) {
			return nil, fmt.Errorf("-stores: %q twice", s)
		}
		o.stores = append(o.stores, s)
	}
	for s := range strings.SplitSeq(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > maxUsers {
			return nil, fmt.Errorf("-sizes: %q: want a number of users from 1 to %d", s, maxUsers)
		}
		if len(o.sizes) > 0 && n <= o.sizes[len(o.sizes)-1] {
			return nil, fmt.Errorf("-sizes: want increasing sizes, got %d after %d", n, o.sizes[len(o.sizes)-1])
		}
		o.sizes = append(o.sizes, n)
	}
	switch {
	case o.sessions < 0 || o.sessions > maxSessions:
		return nil, fmt.Errorf("-sessions must be from 0 to %d, got %d", maxSessions, o.sessions)
	case o.expired < 0 || o.expired > 1:
		return nil, fmt.Errorf("-expired must be from 0 to 1, got %v", o.expired)
	case o.tokens < 1 || o.tokens > maxTokens:
		return nil, fmt.Errorf("-tokens must be from 1 to %d, got %d", maxTokens, o.tokens)
	case o.workers < 1 || o.workers > maxWorkers:
		return nil, fmt.Errorf("-c must be from 1 to %d, got %d", maxWorkers, o.workers)
	case o.duration <= 0 || o.duration > maxDuration:
		return nil, fmt.Errorf("-d must be positive and at most %s, got %s", maxDuration, o.duration)
	case o.pruneFor != 0 && !o.prune:
		return nil, errors.New("-prune-for needs -prune")
	case o.pruneFor < 0 || o.pruneFor > maxDuration*100:
		return nil, fmt.Errorf("-prune-for must be from 0 to %s, got %s", maxDuration*100, o.pruneFor)
	case o.rounds < 1 || o.rounds > maxRounds:
		return nil, fmt.Errorf("-rounds must be from 1 to %d, got %d", maxRounds, o.rounds)
	case o.hash != "owasp" && o.hash != "default":
		return nil, fmt.Errorf("-hash must be owasp or default, got %q", o.hash)
	case slices.Contains(o.stores, "postgres") && o.pgDSN == "":
		return nil, errors.New("-stores postgres needs -postgres or $GATEHOUSE_TEST_POSTGRES_DSN")
	case slices.Contains(o.stores, "mysql") && o.myDSN == "":
		return nil, errors.New("-stores mysql needs -mysql or $GATEHOUSE_TEST_MYSQL_DSN")
	}
	return &o, nil
}
