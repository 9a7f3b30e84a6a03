package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/limitertest"
)

func TestMemoryLimiterConformance(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, limit auth.RateLimit, now func() time.Time) auth.Limiter {
		l, err := auth.NewMemoryLimiter(limit, 1000, now)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestMemoryLimiterIsBounded(t *testing.T) {
	clock := newClock()
	l, err := auth.NewMemoryLimiter(auth.RateLimit{Burst: 2, Every: time.Minute}, 100, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		if wait, err := l.Take(ctx, fmt.Sprint("k", i)); wait != 0 || err != nil {
			t.Fatalf("Take(k%d) = %v, %v", i, wait, err)
		}
	}
	if n := l.Len(); n != 100 {
		t.Errorf("holds %d keys, want the cap, 100", n)
	}
	// The most recent keys were kept; the oldest were forgotten.
	if wait, _ := l.Take(ctx, "k999"); wait != 0 {
		t.Errorf("second take of a kept key was refused")
	}
	if wait, _ := l.Take(ctx, "k999"); wait == 0 {
		t.Errorf("kept key lost its state")
	}
	// Keys whose budget has refilled hold nothing and are dropped as new
	// keys arrive.
	clock.Advance(time.Hour)
	for i := range 10 {
		_, _ = l.Take(ctx, fmt.Sprint("new", i))
	}
	if n := l.Len(); n != 10 {
		t.Errorf("after every budget refilled: %d keys, want only the 10 new ones", n)
	}
	// Checks store nothing; resets drop keys, which are full again.
	for i := range 10 {
		_, _ = l.Check(ctx, fmt.Sprint("checked", i))
	}
	_ = l.Reset(ctx, "new0")
	_ = l.Reset(ctx, "new1")
	if n := l.Len(); n != 8 {
		t.Errorf("after ten checks and two resets: %d keys, want 8", n)
	}
}

func TestNewMemoryLimiterRejectsBadLimits(t *testing.T) {
	for _, tc := range []struct {
		limit auth.RateLimit
		keys  int
	}{
		{auth.RateLimit{}, 10},
		{auth.RateLimit{Burst: 5}, 10},
		{auth.RateLimit{Every: time.Second}, 10},
		{auth.RateLimit{Burst: -1, Every: time.Second}, 10},
		{auth.RateLimit{Burst: 1 << 30, Every: time.Hour}, 10},
		{auth.RateLimit{Burst: 5, Every: time.Second}, 0},
	} {
		if _, err := auth.NewMemoryLimiter(tc.limit, tc.keys, nil); err == nil {
			t.Errorf("NewMemoryLimiter(%+v, %d) succeeded", tc.limit, tc.keys)
		}
	}
}
