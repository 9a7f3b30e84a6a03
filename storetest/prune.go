package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// pruneManySessions is how many sessions testPruneMany creates: enough for
// several batches of a store that prunes in small batches (sqlstore's
// conformance tests set 16), and few enough to create one by one quickly.
const pruneManySessions = 240

// testPruneMany: DeleteSessions over many sessions of several users removes
// exactly those that expired or were revoked at or before the bound, keeps
// every other one unchanged, and counts what it removed.
func testPruneMany(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	users := []*auth.User{sessionUser(t, us, "pia"), sessionUser(t, us, "pim"), sessionUser(t, us, "pol")}
	// Each kind says how a session relates to the bound: whether pruning
	// removes it, and how to make it so.
	kinds := []struct {
		gone bool
		make func(s *auth.Session)
	}{
		{false, func(s *auth.Session) {}},                                              // live
		{true, func(s *auth.Session) { s.ExpiresAt = when }},                           // expires exactly at the bound
		{true, func(s *auth.Session) { s.ExpiresAt = when.Add(-48 * time.Hour) }},      // long expired
		{false, func(s *auth.Session) { s.ExpiresAt = when.Add(time.Millisecond) }},    // expires just after
		{true, func(s *auth.Session) { s.RevokedAt = when.Add(-time.Minute) }},         // revoked before
		{true, func(s *auth.Session) { s.RevokedAt = when }},                           // revoked exactly at the bound
		{false, func(s *auth.Session) { s.RevokedAt = when.Add(time.Millisecond) }},    // revoked just after
		{true, func(s *auth.Session) { s.ExpiresAt, s.RevokedAt = when, when }},        // both
		{false, func(s *auth.Session) { s.ExpiresAt = when.Add(30 * 24 * time.Hour) }}, // live a long time
	}
	var kept, gone []*auth.Session
	for i := range pruneManySessions {
		k := kinds[i%len(kinds)]
		s := newSession(users[i%len(users)].ID, when.Add(-time.Duration(i)*time.Second))
		s.ExpiresAt = when.Add(24 * time.Hour)
		k.make(s)
		mustCreateSession(t, ss, s)
		if k.gone {
			gone = append(gone, s)
		} else {
			kept = append(kept, s)
		}
	}
	n, err := ss.DeleteSessions(ctx, when)
	if err != nil {
		t.Fatalf("DeleteSessions: %v", err)
	}
	if n != len(gone) {
		t.Errorf("DeleteSessions removed %d, want %d", n, len(gone))
	}
	for _, s := range gone {
		if _, err := ss.Session(ctx, s.ID); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("session %s (expires %v, revoked %v) survived pruning: %v", s.ID, s.ExpiresAt, s.RevokedAt, err)
		}
	}
	for _, s := range kept {
		got, err := ss.Session(ctx, s.ID)
		if err != nil {
			t.Errorf("session %s (expires %v, revoked %v) pruned: %v", s.ID, s.ExpiresAt, s.RevokedAt, err)
			continue
		}
		equalSession(t, "kept session", got, s)
	}
	if n, err := ss.DeleteSessions(ctx, when); n != 0 || err != nil {
		t.Errorf("second prune = %d, %v; want 0, nil", n, err)
	}
}
