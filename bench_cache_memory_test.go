package auth_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// BenchmarkCacheMemory reports what the verified-token cache and the
// user-state cache hold on the heap, in bytes per entry, when 100000
// distinct live access tokens are verified: the token cache at its default
// size (10000) and at 100000, and the user cache (10000 entries, its fixed
// size) with the token cache off, the tokens being of 100000 different
// users. It logs in 100000 times (200000 fast hashes for the users case),
// so it runs only with -bench:
//
//	go test -run '^$' -bench CacheMemory -benchtime 1x .
func BenchmarkCacheMemory(b *testing.B) {
	const tokens = 100_000
	for _, bc := range []struct {
		name       string
		tokenCache int // 0 off
		users      int // distinct users the tokens are of
		entries    int // what the measured cache then holds
	}{
		{"token-cache/default-10000", 10_000, 1, 10_000},
		{"token-cache/100000", 100_000, 1, 100_000},
		{"user-cache/default-10000", 0, tokens, 10_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			a, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(),
				auth.WithTokenCacheSize(bc.tokenCache), auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{}),
				auth.WithRegisterLimit(auth.RateLimit{}))
			if err != nil {
				b.Fatal(err)
			}
			for u := range bc.users {
				if _, err := a.Register(ctx, fmt.Sprintf("user-%06d", u), "correct horse battery"); err != nil {
					b.Fatal(err)
				}
			}
			access := make([]string, tokens)
			for k := range access {
				pair, err := a.Login(ctx, fmt.Sprintf("user-%06d", k%bc.users), "correct horse battery")
				if err != nil {
					b.Fatal(err)
				}
				access[k] = pair.AccessToken
			}
			before := liveHeap()
			b.ResetTimer()
			for range b.N {
				for _, tok := range access {
					if _, err := a.VerifyAccessToken(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			after := liveHeap()
			runtime.KeepAlive(access)
			runtime.KeepAlive(a)
			b.ReportMetric(float64(after-before)/float64(bc.entries), "B/entry")
			b.ReportMetric(float64(after-before)/(1<<20), "cache-MiB")
		})
	}
}

// liveHeap is the heap's live bytes after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
