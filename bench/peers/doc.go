// Package peers benchmarks Gatehouse's middleware against other Go JWT
// middlewares in one run: the same token, the same handler and the same
// request for every stack. See README.md.
//
// It is a module of its own so that the peers it imports never enter the
// library's go.mod. It holds only benchmarks; there is nothing to import.
package peers
