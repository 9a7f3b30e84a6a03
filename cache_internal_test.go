package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestBoundedCacheStaysBounded(t *testing.T) {
	c := newBoundedCache[int](64)
	for i := range 10000 {
		c.put(fmt.Sprint(i), i)
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > 64+cacheShards {
		t.Fatalf("cache holds %d entries, want about 64", n)
	}
	if v, ok := c.get("9999"); !ok || v != 9999 {
		t.Fatalf("latest entry lost: %v %v", v, ok)
	}
	c.remove("9999")
	if _, ok := c.get("9999"); ok {
		t.Fatal("removed entry still there")
	}
	var disabled *boundedCache[int]
	disabled.put("a", 1)
	if _, ok := disabled.get("a"); ok {
		t.Fatal("a disabled cache stored something")
	}
}

func TestRememberKeepsNewerVersion(t *testing.T) {
	a := &Authenticator{cfg: config{userCacheTTL: time.Second}, users: newBoundedCache[*cachedUser](16)}
	now := time.Now()
	a.remember(&User{ID: "u", TokenVersion: 2, Disabled: true}, now)
	// A read that started before the write lands after it.
	a.remember(&User{ID: "u", TokenVersion: 1}, now)
	if cu, _ := a.users.get("u"); cu.user.TokenVersion != 2 || !cu.user.Disabled {
		t.Fatalf("stale read replaced this instance's own write: %+v", cu.user)
	}
}
