// Package testutil holds what the tests of several packages share: the fake
// clock, the test keys in testdata/keys and a reader of the OpenAPI
// document's statuses. Only tests import it.
package testutil

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is the injected clock: tests move it instead of sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ReadPEM returns a file of the module's testdata/keys, made with openssl
// (see testdata/README.md), so that no test spends time generating RSA keys.
func ReadPEM(t testing.TB, name string) []byte {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate testdata")
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// PrivateKey returns the parsed private key of a testdata/keys PEM file.
func PrivateKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(ReadPEM(t, name))
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// DocumentedStatuses returns the statuses that the OpenAPI document doc
// lists for the operation method path (such as "POST",
// "/auth/mfa/verify"), for fuzz targets that check a handler answers
// only with those.
func DocumentedStatuses(t testing.TB, doc []byte, method, path string) map[int]bool {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	op, ok := d.Paths[path][strings.ToLower(method)]
	if !ok || len(op.Responses) == 0 {
		t.Fatalf("%s %s is not in the OpenAPI document", method, path)
	}
	out := map[int]bool{}
	for code := range op.Responses {
		n, err := strconv.Atoi(code)
		if err != nil {
			t.Fatalf("%s %s documents status %q", method, path, code)
		}
		out[n] = true
	}
	return out
}
