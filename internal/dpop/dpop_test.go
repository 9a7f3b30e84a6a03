package dpop_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/auth/internal/dpop"
)

func TestMatchURI(t *testing.T) {
	const req = "https://api.example.com/orders/42"
	for htu, want := range map[string]bool{
		"https://api.example.com/orders/42":      true,
		"HTTPS://API.Example.COM/orders/42":      true,
		"https://api.example.com:443/orders/42":  true,
		"https://api.example.com/%6Frders/42":    true,
		"https://api.example.com/orders/42/":     false,
		"https://api.example.com/Orders/42":      false,
		"https://api.example.com/orders/42?x=1":  false,
		"https://api.example.com/orders/42#frag": false,
		"http://api.example.com/orders/42":       false,
		"https://api.example.com:8443/orders/42": false,
		"https://user@api.example.com/orders/42": false,
		"/orders/42":                             false,
		"https://api.example.com/orders/4%2":     false,
		"https://api.example.com/orders%2F42":    false,
		"ftp://api.example.com/orders/42":        false,
		"https://[::1]:443/":                     false,
	} {
		if got := dpop.MatchURI(htu, req); got != want {
			t.Errorf("MatchURI(%q) = %v, want %v", htu, got, want)
		}
	}
	if !dpop.MatchURI("https://[::1]/x", "https://[::1]:443/x") || !dpop.MatchURI("http://h:8080/", "http://h:8080") {
		t.Error("IPv6 host or empty path not normalized")
	}
}

func TestRequestURI(t *testing.T) {
	r := httptest.NewRequest("GET", "http://internal:8080/api/x?q=1", nil)
	if got := dpop.RequestURI(r, nil); got != "http://internal:8080/api/x" {
		t.Errorf("RequestURI = %q", got)
	}
}

func TestMemoryReplay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := dpop.NewMemoryReplay(32, clock)
	ctx := context.Background()
	if ok, _ := m.Use(ctx, "a", now.Add(time.Minute)); !ok {
		t.Fatal("first use not fresh")
	}
	if ok, _ := m.Use(ctx, "a", now.Add(time.Minute)); ok {
		t.Fatal("second use fresh")
	}
	now = now.Add(time.Minute)
	if ok, _ := m.Use(ctx, "a", now.Add(time.Minute)); !ok {
		t.Fatal("use after expiry not fresh")
	}
	// Bounded: far more keys than the size never grow it past about size.
	for i := range 10000 {
		m.Use(ctx, string(rune(i+1000)), now.Add(time.Hour))
	}
	if n := m.Len(); n > 32+16 {
		t.Errorf("%d keys held, want about 32", n)
	}
}

func TestNonces(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	n := dpop.NewNonces([]byte("0123456789abcdef0123456789abcdef"), time.Minute, func() time.Time { return now })
	other := dpop.NewNonces([]byte("fedcba9876543210fedcba9876543210"), time.Minute, func() time.Time { return now })
	cur := n.Current()
	if !n.Valid(cur) || other.Valid(cur) || n.Valid("") {
		t.Fatal("nonce validity wrong")
	}
	now = now.Add(time.Minute)
	if !n.Valid(cur) {
		t.Error("nonce of the previous window refused")
	}
	now = now.Add(time.Minute)
	if n.Valid(cur) {
		t.Error("nonce two windows old accepted")
	}
}

// BenchmarkMemoryReplay is the replay cache's share of a DPoP request.
func BenchmarkMemoryReplay(b *testing.B) {
	now := time.Now()
	m := dpop.NewMemoryReplay(100_000, func() time.Time { return now })
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = dpop.ReplayKey("jkt", time.Duration(i).String())
	}
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		m.Use(ctx, keys[i%len(keys)], now.Add(time.Minute))
		i++
	}
}
