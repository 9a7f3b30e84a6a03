//go:build race

package sqlstore_test

// raceEnabled reports a -race build. The race detector slows SQLite, which
// runs in the test's process, about tenfold, and with it how long a prune's
// batch holds the write lock; PostgreSQL and MySQL run outside it.
const raceEnabled = true
