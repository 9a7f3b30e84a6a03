package auth

import (
	"testing"
	"time"

	"github.com/gatehouse/auth/internal/cache"
)

func TestRememberKeepsNewerVersion(t *testing.T) {
	a := &Authenticator{cfg: config{userCacheTTL: time.Second}, users: cache.New[*cachedUser](16)}
	now := time.Now()
	a.remember(&User{ID: "u", TokenVersion: 2, Disabled: true}, now)
	// A read that started before the write lands after it.
	a.remember(&User{ID: "u", TokenVersion: 1}, now)
	if cu, _ := a.users.Get("u"); cu.user.TokenVersion != 2 || !cu.user.Disabled {
		t.Fatalf("stale read replaced this instance's own write: %+v", cu.user)
	}
}
