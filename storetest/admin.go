package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// runAdmin checks the optional abilities of the admin API: roles (part
// of every store's users), [auth.UserLister], [auth.APIKeyStore] and
// [auth.AuditStore], each skipped when the store lacks it.
func runAdmin(t *testing.T, newStore func(t *testing.T) auth.UserStore) {
	t.Run("RolesRoundTrip", func(t *testing.T) { testRolesRoundTrip(t, newStore(t)) })
	t.Run("UserLister", func(t *testing.T) {
		if _, ok := newStore(t).(auth.UserLister); !ok {
			t.Skip("the store does not implement auth.UserLister")
		}
		for _, tc := range []struct {
			name string
			fn   func(t *testing.T, s auth.UserStore, l auth.UserLister)
		}{
			{"Order", testListOrder},
			{"CursorAcrossChanges", testListCursor},
			{"Filters", testListFilters},
			{"Malformed", testListMalformed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				tc.fn(t, s, s.(auth.UserLister))
			})
		}
	})
	t.Run("APIKeys", func(t *testing.T) {
		if _, ok := newStore(t).(auth.APIKeyStore); !ok {
			t.Skip("the store does not implement auth.APIKeyStore")
		}
		for _, tc := range []struct {
			name string
			fn   func(t *testing.T, s auth.UserStore, k auth.APIKeyStore)
		}{
			{"CreateAndGet", testKeyCreateAndGet},
			{"ListRevokeTouch", testKeyListRevokeTouch},
			{"Prune", testKeyPrune},
			{"DeleteUserRemovesKeys", testKeyDeleteUser},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				tc.fn(t, s, s.(auth.APIKeyStore))
			})
		}
	})
	t.Run("Audit", func(t *testing.T) {
		s := newStore(t)
		as, ok := s.(auth.AuditStore)
		if !ok {
			t.Skip("the store does not implement auth.AuditStore")
		}
		testAudit(t, as)
	})
}

func sameNames(a, b []string) bool { return slices.Equal(a, b) || (len(a) == 0 && len(b) == 0) }

func testRolesRoundTrip(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u := newUser("roles")
	u.Roles = []string{"admin", "billing:read"}
	mustCreate(t, s, u)
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || !slices.Equal(got.Roles, u.Roles) {
		t.Fatalf("roles after CreateUser = %q, %v; want %q", got.Roles, err, u.Roles)
	}
	got.Roles[0] = "mutated"
	next := *u
	next.Roles = []string{"editor"}
	next.UpdatedAt = when.Add(time.Second)
	if err := s.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); err != nil {
		t.Fatal(err)
	}
	got, err = s.UserByUsername(ctx, "roles")
	if err != nil || !slices.Equal(got.Roles, []string{"editor"}) {
		t.Fatalf("roles after UpdateUser = %q, %v; want [editor]", got.Roles, err)
	}
	next.Roles = nil
	if err := s.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion); err != nil {
		t.Fatal(err)
	}
	if got, err = s.UserByID(ctx, u.ID); err != nil || len(got.Roles) != 0 {
		t.Fatalf("roles after clearing = %q, %v; want none", got.Roles, err)
	}
	plain := mustCreate(t, s, newUser("plain"))
	if got, err = s.UserByID(ctx, plain.ID); err != nil || len(got.Roles) != 0 {
		t.Fatalf("roles of a user created without = %q, %v", got.Roles, err)
	}
}

// listAll pages through the store with the given page size.
func listAll(t *testing.T, l auth.UserLister, q auth.UserQuery) []string {
	t.Helper()
	var names []string
	for range 100 {
		page, err := l.ListUsers(context.Background(), q)
		if err != nil {
			t.Fatalf("ListUsers(%+v): %v", q, err)
		}
		if len(page) > q.Limit {
			t.Fatalf("ListUsers returned %d users, limit %d", len(page), q.Limit)
		}
		for _, u := range page {
			names = append(names, u.Username)
		}
		if len(page) < q.Limit {
			return names
		}
		q.After = page[len(page)-1].Username
	}
	t.Fatal("ListUsers never ended")
	return nil
}

func testListOrder(t *testing.T, s auth.UserStore, l auth.UserLister) {
	names := []string{"mallory", "alice", "zoë", "bob", "alina", "carol", "a", "émile", "b"}
	for _, n := range names {
		mustCreate(t, s, newUser(n))
	}
	want := slices.Clone(names)
	slices.Sort(want) // byte order
	for _, limit := range []int{1, 2, 3, 100} {
		if got := listAll(t, l, auth.UserQuery{Limit: limit}); !slices.Equal(got, want) {
			t.Errorf("limit %d: %q, want %q", limit, got, want)
		}
	}
	page, err := l.ListUsers(context.Background(), auth.UserQuery{Limit: 1})
	if err != nil || len(page) != 1 {
		t.Fatal(page, err)
	}
	equalUser(t, "listed user", page[0], mustGet(t, s, page[0].Username))
}

func mustGet(t *testing.T, s auth.UserStore, name string) *auth.User {
	t.Helper()
	u, err := s.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testListCursor(t *testing.T, s auth.UserStore, l auth.UserLister) {
	ctx := context.Background()
	for _, n := range []string{"b1", "b2", "b3", "b4", "b5"} {
		mustCreate(t, s, newUser(n))
	}
	page, err := l.ListUsers(ctx, auth.UserQuery{Limit: 2})
	if err != nil || len(page) != 2 || page[1].Username != "b2" {
		t.Fatalf("first page = %v, %v", page, err)
	}
	// Between pages: one user before the cursor, one after, the cursor's
	// own user and a later one deleted.
	mustCreate(t, s, newUser("a0"))
	mustCreate(t, s, newUser("b35"))
	if err := s.DeleteUser(ctx, page[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, mustGet(t, s, "b4").ID); err != nil {
		t.Fatal(err)
	}
	rest := listAll(t, l, auth.UserQuery{After: "b2", Limit: 2})
	if want := []string{"b3", "b35", "b5"}; !slices.Equal(rest, want) {
		t.Errorf("after the cursor: %q, want %q", rest, want)
	}
}

func testListFilters(t *testing.T, s auth.UserStore, l auth.UserLister) {
	ctx := context.Background()
	mk := func(name string, disabled bool, roles ...string) {
		u := newUser(name)
		u.Disabled, u.Roles = disabled, roles
		mustCreate(t, s, u)
	}
	mk("al", false, "admin")
	mk("alice", true, "admins")
	mk("alina", false, "sub-admin", "x")
	mk("al_x", false)
	mk("bob", false, "admin", "billing")
	mk("éa", false)
	mk("éb", true, "admin")
	yes, no := true, false
	if _, ok := s.(auth.EmailStore); ok {
		// A prefix holding "@" searches the canonical email.
		for name, email := range map[string]string{"em_b": "Zed@Example.org", "em_a": "zoe@example.org", "em_c": "zed@other.org"} {
			u := newUser(name)
			u.Email = email
			mustCreate(t, s, u)
		}
		for prefix, want := range map[string][]string{
			"z@":            nil,
			"zed@":          {"em_b", "em_c"},
			"zed@example.":  {"em_b"},
			"zoe@example.o": {"em_a"},
		} {
			got, err := l.ListUsers(ctx, auth.UserQuery{Prefix: prefix, Limit: 10})
			var names []string
			for _, u := range got {
				names = append(names, u.Username)
			}
			if err != nil || !slices.Equal(names, want) {
				t.Errorf("ListUsers(email prefix %q) = %v, %v; want %v", prefix, names, err, want)
			}
		}
	}
	for _, tc := range []struct {
		q    auth.UserQuery
		want []string
	}{
		{auth.UserQuery{Prefix: "al"}, []string{"al", "al_x", "alice", "alina"}},
		{auth.UserQuery{Prefix: "ali"}, []string{"alice", "alina"}},
		{auth.UserQuery{Prefix: "al_"}, []string{"al_x"}},
		{auth.UserQuery{Prefix: "al%"}, nil},
		{auth.UserQuery{Prefix: "é"}, []string{"éa", "éb"}},
		{auth.UserQuery{Prefix: "zz"}, nil},
		{auth.UserQuery{Disabled: &yes}, []string{"alice", "éb"}},
		{auth.UserQuery{Disabled: &no, Prefix: "al"}, []string{"al", "al_x", "alina"}},
		{auth.UserQuery{Role: "admin"}, []string{"al", "bob", "éb"}},
		{auth.UserQuery{Role: "admin", Disabled: &no}, []string{"al", "bob"}},
		{auth.UserQuery{Role: "admi"}, nil},
		{auth.UserQuery{Role: "x"}, []string{"alina"}},
		{auth.UserQuery{Prefix: "al", After: "alice"}, []string{"alina"}},
		{auth.UserQuery{Prefix: "b", After: "al"}, []string{"bob"}},
		{auth.UserQuery{Prefix: "al", After: "zz"}, nil},
	} {
		for _, limit := range []int{1, 10} {
			tc.q.Limit = limit
			got := listAll(t, l, tc.q)
			if !sameNames(got, tc.want) {
				t.Errorf("ListUsers(%+v) = %q, want %q", tc.q, got, tc.want)
			}
		}
	}
	if _, err := l.ListUsers(ctx, auth.UserQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	}
}

func testListMalformed(t *testing.T, s auth.UserStore, l auth.UserLister) {
	mustCreate(t, s, newUser("zed"))
	for _, q := range []auth.UserQuery{
		{Prefix: "\xff", Limit: 5},
		{After: "a\x00", Limit: 5},
		{Role: "\xfe", Limit: 5},
	} {
		got, err := l.ListUsers(context.Background(), q)
		if err != nil || len(got) != 0 {
			t.Errorf("ListUsers(%q) = %v, %v; want nothing and no error", fmt.Sprintf("%+v", q), got, err)
		}
	}
}

var keySeq atomic.Int64

func newKey(userID string) *auth.APIKey {
	n := keySeq.Add(1)
	return &auth.APIKey{
		ID: fmt.Sprintf("0a1b2c3d-0000-4000-8000-%012d", n), UserID: userID, Name: "deploy — ünïcødé",
		Hash: fmt.Sprintf("%064x", n), Scopes: []string{"introspect", "repo:read"}, TokenVersion: 1,
		CreatedAt: when, ExpiresAt: when.Add(24 * time.Hour),
	}
}

func equalKey(t *testing.T, what string, got, want *auth.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || got.Hash != want.Hash ||
		!sameNames(got.Scopes, want.Scopes) || got.TokenVersion != want.TokenVersion ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		!got.LastUsedAt.Equal(want.LastUsedAt) || !got.RevokedAt.Equal(want.RevokedAt) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, *got, *want)
	}
}

func testKeyCreateAndGet(t *testing.T, s auth.UserStore, ks auth.APIKeyStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("keyholder"))
	k := newKey(u.ID)
	if err := ks.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	never := newKey(u.ID)
	never.ExpiresAt, never.Scopes = time.Time{}, nil
	if err := ks.CreateAPIKey(ctx, never); err != nil {
		t.Fatal(err)
	}
	got, err := ks.APIKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalKey(t, "APIKey", got, k)
	got.Scopes[0] = "mutated"
	got, err = ks.APIKeyByHash(ctx, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	equalKey(t, "APIKeyByHash", got, k)
	if got, err = ks.APIKey(ctx, never.ID); err != nil {
		t.Fatal(err)
	}
	equalKey(t, "key without expiry or scopes", got, never)

	dupID := newKey(u.ID)
	dupID.ID = k.ID
	dupHash := newKey(u.ID)
	dupHash.Hash = k.Hash
	for what, dup := range map[string]*auth.APIKey{"id": dupID, "hash": dupHash} {
		if err := ks.CreateAPIKey(ctx, dup); !errors.Is(err, auth.ErrUserExists) {
			t.Errorf("CreateAPIKey with a taken %s = %v, want ErrUserExists", what, err)
		}
	}
	bad := newKey("\xff")
	if err := ks.CreateAPIKey(ctx, bad); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("CreateAPIKey for a malformed user = %v, want ErrUserNotFound", err)
	}
	for _, id := range []string{"nope", "\xff", "a\x00b", ""} {
		if _, err := ks.APIKey(ctx, id); !errors.Is(err, auth.ErrAPIKeyNotFound) {
			t.Errorf("APIKey(%q) = %v, want ErrAPIKeyNotFound", id, err)
		}
		if _, err := ks.APIKeyByHash(ctx, id); !errors.Is(err, auth.ErrAPIKeyNotFound) {
			t.Errorf("APIKeyByHash(%q) = %v, want ErrAPIKeyNotFound", id, err)
		}
	}
}

func testKeyListRevokeTouch(t *testing.T, s auth.UserStore, ks auth.APIKeyStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("lister"))
	other := mustCreate(t, s, newUser("other"))
	var ids []string
	for i := range 3 {
		k := newKey(u.ID)
		k.CreatedAt = when.Add(time.Duration(2-i) * time.Minute) // newest first
		if err := ks.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	if err := ks.CreateAPIKey(ctx, newKey(other.ID)); err != nil {
		t.Fatal(err)
	}
	if err := ks.RevokeAPIKey(ctx, ids[1], when.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ks.RevokeAPIKey(ctx, ids[1], when.Add(2*time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := ks.RevokeAPIKey(ctx, "no-such-key", when); err != nil {
		t.Fatalf("revoking a missing key: %v", err)
	}
	got, err := ks.APIKey(ctx, ids[1])
	if err != nil || !got.RevokedAt.Equal(when.Add(time.Hour)) {
		t.Fatalf("revoked key: %+v, %v; want RevokedAt at the first revocation", got, err)
	}
	list, err := ks.UserAPIKeys(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, k := range list {
		listed = append(listed, k.ID)
	}
	if want := []string{ids[2], ids[0]}; !slices.Equal(listed, want) {
		t.Errorf("UserAPIKeys = %q, want the live keys oldest first %q", listed, want)
	}
	if list, err := ks.UserAPIKeys(ctx, "\xff"); err != nil || len(list) != 0 {
		t.Errorf("UserAPIKeys of a malformed ID = %v, %v", list, err)
	}

	t1 := when.Add(time.Minute)
	for _, at := range []time.Time{t1, when} { // the second would go back in time
		if err := ks.TouchAPIKey(ctx, ids[0], at); err != nil {
			t.Fatal(err)
		}
	}
	if got, err = ks.APIKey(ctx, ids[0]); err != nil || !got.LastUsedAt.Equal(t1) {
		t.Fatalf("LastUsedAt = %v, %v; want %v", got.LastUsedAt, err, t1)
	}
	if err := ks.TouchAPIKey(ctx, "no-such-key", t1); err != nil {
		t.Fatalf("touching a missing key: %v", err)
	}
}

func testKeyPrune(t *testing.T, s auth.UserStore, ks auth.APIKeyStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("pruner"))
	live, expired, revoked, never := newKey(u.ID), newKey(u.ID), newKey(u.ID), newKey(u.ID)
	expired.ExpiresAt = when.Add(time.Minute)
	never.ExpiresAt = time.Time{}
	for _, k := range []*auth.APIKey{live, expired, revoked, never} {
		if err := ks.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := ks.RevokeAPIKey(ctx, revoked.ID, when.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := ks.DeleteAPIKeys(ctx, when.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteAPIKeys = %d, %v; want 2", n, err)
	}
	for _, k := range []*auth.APIKey{expired, revoked} {
		if _, err := ks.APIKey(ctx, k.ID); !errors.Is(err, auth.ErrAPIKeyNotFound) {
			t.Errorf("pruned key %s: %v", k.ID, err)
		}
	}
	for _, k := range []*auth.APIKey{live, never} {
		if _, err := ks.APIKey(ctx, k.ID); err != nil {
			t.Errorf("kept key %s: %v", k.ID, err)
		}
	}
}

func testKeyDeleteUser(t *testing.T, s auth.UserStore, ks auth.APIKeyStore) {
	ctx := context.Background()
	u := mustCreate(t, s, newUser("leaver"))
	k := newKey(u.ID)
	if err := ks.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.APIKeyByHash(ctx, k.Hash); !errors.Is(err, auth.ErrAPIKeyNotFound) {
		t.Errorf("key of a deleted user: %v, want ErrAPIKeyNotFound", err)
	}
}

func testAudit(t *testing.T, as auth.AuditStore) {
	ctx := context.Background()
	var all []*auth.AuditEntry
	for i := range 7 {
		e := &auth.AuditEntry{
			ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", i), Time: when.Add(time.Duration(i) * time.Hour),
			Action: "user.updated", ActorID: "admin", TargetID: fmt.Sprintf("user%d", i%3), IP: "2001:db8::1",
			Detail: `{"disabled":{"from":false,"to":true},"name":"ünï"}`,
		}
		if i == 4 {
			e.ActorID, e.TargetID = "user1", "user9"
		}
		if err := as.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	if err := as.AppendAudit(ctx, all[0]); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("appending a taken ID = %v, want ErrUserExists", err)
	}
	ids := func(q auth.AuditQuery) []string {
		t.Helper()
		var out []string
		for range 20 {
			page, err := as.AuditEntries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				out = append(out, e.ID[len(e.ID)-1:])
			}
			if len(page) < q.Limit {
				return out
			}
			q.Before = page[len(page)-1].ID
		}
		return out
	}
	if got := ids(auth.AuditQuery{Limit: 3}); !slices.Equal(got, []string{"6", "5", "4", "3", "2", "1", "0"}) {
		t.Errorf("newest first = %q", got)
	}
	if got := ids(auth.AuditQuery{Limit: 2, UserID: "user1"}); !slices.Equal(got, []string{"4", "1"}) {
		t.Errorf("entries of user1 (target, then actor) = %q, want [4 1]", got)
	}
	page, err := as.AuditEntries(ctx, auth.AuditQuery{Limit: 1})
	if err != nil || len(page) != 1 {
		t.Fatal(page, err)
	}
	if e := page[0]; e.ID != all[6].ID || !e.Time.Equal(all[6].Time) || e.Action != all[6].Action || e.ActorID != all[6].ActorID ||
		e.TargetID != all[6].TargetID || e.IP != all[6].IP || e.Detail != all[6].Detail {
		t.Errorf("entry = %+v, want %+v", *e, *all[6])
	}
	n, err := as.DeleteAudit(ctx, when.Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteAudit = %d, %v; want 2", n, err)
	}
	if got := ids(auth.AuditQuery{Limit: 10}); !slices.Equal(got, []string{"6", "5", "4", "3", "2"}) {
		t.Errorf("after pruning = %q", got)
	}
	if got, err := as.AuditEntries(ctx, auth.AuditQuery{Limit: 5, UserID: "\xff"}); err != nil || len(got) != 0 {
		t.Errorf("malformed user: %v, %v", got, err)
	}
}
