//go:build unix

package jose_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/gatehouse/auth/internal/testutil"
)

// benchKeys returns one signing key per algorithm, from testdata/keys.
func benchKeys(b *testing.B) []jose.Key {
	b.Helper()
	must := func(k jose.Key, err error) jose.Key {
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	return []jose.Key{
		must(jose.NewHMAC("hs", []byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-bench"))),
		must(jose.NewEdDSAPrivate("ed", testutil.PrivateKey(b, "ed25519.pem").(ed25519.PrivateKey))),
		must(jose.NewES256Private("ec", testutil.PrivateKey(b, "p256.pem").(*ecdsa.PrivateKey))),
		must(jose.NewRS256Private("rs", testutil.PrivateKey(b, "rsa2048.pem").(*rsa.PrivateKey))),
	}
}

// benchClaims are the claims of a typical access token.
func benchClaims(now time.Time) *jose.Claims {
	v := int64(3)
	c := &jose.Claims{Type: jose.TypeAccess, Version: &v}
	c.Issuer = "https://login.example.test"
	c.Subject = "0190a5f2-7c1e-7a3b-9f00-0123456789ab"
	c.Audience = jose.Audience("orders")
	c.IssuedAt = jose.NumericDate(now)
	c.ExpiresAt = jose.NumericDate(now.Add(30 * time.Minute))
	c.ID = "5b1c8f0e-2d4a-4e6b-8c9d-0a1b2c3d4e5f"
	return c
}

// BenchmarkSign measures signing one access token per algorithm.
func BenchmarkSign(b *testing.B) {
	now := time.Now()
	for _, k := range benchKeys(b) {
		b.Run(k.Alg(), func(b *testing.B) {
			c := benchClaims(now)
			loop(b, func() {
				if _, err := jose.Sign(k, c); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkVerify measures verifying one access token per algorithm: key
// lookup by kid, signature, and claims.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	keys := benchKeys(b)
	set, err := jose.NewSet(keys...)
	if err != nil {
		b.Fatal(err)
	}
	p := jose.NewParser(jose.Rules{
		Algorithms: set.Algorithms(),
		Issuer:     "https://login.example.test",
		Audience:   "orders",
		Leeway:     5 * time.Second,
		Clock:      func() time.Time { return now },
	})
	for _, k := range keys {
		b.Run(k.Alg(), func(b *testing.B) {
			tok, err := jose.Sign(k, benchClaims(now))
			if err != nil {
				b.Fatal(err)
			}
			loop(b, func() {
				if _, err := p.Parse(tok, jose.TypeAccess, set.Lookup); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// loop runs f with b.Loop and also reports the process's CPU time per
// operation ("cpu-ns/op"). On a shared machine wall time swings with the
// load of others; CPU time much less, which keeps the ratios between
// algorithms meaningful.
func loop(b *testing.B, f func()) {
	b.Helper()
	n := 0
	start := cpuTime(b)
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(n), "cpu-ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
