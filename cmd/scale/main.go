// Command scale measures how Gatehouse's cost per request grows with the
// data: it seeds each store to each size, drives a mixed workload at every
// size in turn, and reports p50, p99, p99.9 and throughput per endpoint and
// per store call, with a chart of p99 against data size.
//
//	go run . -stores sqlite,postgres,mysql -sizes 1000,100000 \
//	    -json ../../docs/scale.json -svg ../../docs/scale-p99.svg
//	go run . -plot ../../docs/scale.json -svg ../../docs/scale-p99.svg
//
// (run from cmd/scale, a module of its own so that its chart and progress
// bar libraries stay out of the library's go.mod).
//
// # Seeding
//
// Each store and size gets a database of its own: a SQLite file in -dir, a
// PostgreSQL schema or a MySQL database named gatehouse_scale_<users>.
// Users get usernames scale-<hex> and one argon2id hash of the password,
// made once through the library's own registration, so that seeding costs
// one hash, not one per user; each user gets -sessions sessions, the
// -expired share of them expired a week or more ago and the rest live.
// Sessions are written in creation order across all users, so that one
// user's sessions lie apart in the table, as sessions made over weeks do.
// The SQL stores are written with multi-row INSERTs in transactions of
// 10000 rows, with exactly the columns and values sqlstore's CreateUser
// and CreateSession write (a test compares the rows, column by column,
// with rows the store wrote itself); the memory store through its own
// CreateUser and CreateSession. Seeding is resumable: each table's seeder
// counts its rows already there and continues from the next, so a
// database seeded once is reused at once; -seed seeds and stops, so that
// stores can be seeded side by side and measured one at a time.
// Seed and measure on the same day: sessions live for a week from the
// seeding.
//
// # The workload
//
// In process: requests go to Authenticator.Handler() (and to a route behind
// Authenticator.Middleware) through ServeHTTP with httptest recorders, so
// the figures are the library's and the database's, without the HTTP
// stack or the network. The Authenticator runs with the user cache off
// (every request reaches the store). Each size runs two phases of -d:
//
//   - mixed: -c workers send a weighted mix of /auth/me and a protected
//     route (each with an access token of one of -tokens, 256, seeded users
//     logged in beforehand), refresh (a rotation, a write; each worker refreshes
//     four sessions of its own in turn), the session list, and logout (of
//     sessions the logins of the hashing phase left);
//   - hashing: login as a random seeded user, and register, as many at
//     once as there are CPUs, so that argon2 does not hide the other
//     endpoints' figures.
//
// Every endpoint's time in the store is shown apart (kind "in-store"),
// from a wrapper that times every store call, as is each store method
// (kind "store"). The sizes alternate for -rounds rounds, up then down, and
// the samples of all rounds are pooled.
//
// With -prune, the largest size's sessions are then pruned through
// Authenticator.PruneSessions while both phases run side by side; the
// figures of that time have kinds prefixed "prune:", next to how many
// sessions the prune removed and how long it took.
//
// Password hashing uses -hash: "owasp" (m=19 MiB, t=2, p=1, OWASP's
// minimum, the default here so that login and register are not all the
// machine does) or "default" (the library's default, m=64 MiB, t=3, p=4).
//
// # Adding a table or an endpoint
//
// A new table (one-time tokens, API keys, audit) is one entry in the
// seeders table of seed.go; a new endpoint is one entry in the operations
// table of workload.go, with its weight.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintln(stderr, "scale:", err)
		return 2
	}
	if o.plotOnly != "" {
		res, err := readResults(o.plotOnly)
		if err == nil {
			err = writeChart(res, o.svg)
		}
		if err != nil {
			fmt.Fprintln(stderr, "scale:", err)
			return 1
		}
		return 0
	}
	res, err := measure(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "scale:", err)
		return 1
	}
	if o.seedOnly {
		return 0
	}
	printReport(stdout, res)
	if o.json != "" {
		if err := writeResults(res, o.json); err != nil {
			fmt.Fprintln(stderr, "scale:", err)
			return 1
		}
	}
	if o.svg != "" {
		if err := writeChart(res, o.svg); err != nil {
			fmt.Fprintln(stderr, "scale:", err)
			return 1
		}
	}
	return 0
}
