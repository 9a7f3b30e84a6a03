// Package testutil holds what the tests of several packages share: the fake
// clock and the test keys in testdata/keys. Only tests import it.
package testutil

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
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
