package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// testSessionDPoPBinding: a session's DPoP thumbprint is stored as given,
// survives rotation, grace uses and revocation, and is listed; an unbound
// session reads back "".
func testSessionDPoPBinding(t *testing.T, us auth.UserStore, ss auth.SessionStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "dora")
	bound := newSession(u.ID, when)
	// A real RFC 7638 thumbprint is 43 base64url characters; stores keep
	// up to 255 bytes as given.
	bound.DPoPJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	mustCreateSession(t, ss, bound)
	long := newSession(u.ID, when.Add(time.Second))
	long.DPoPJKT = strings.Repeat("k", 255)
	mustCreateSession(t, ss, long)
	unbound := mustCreateSession(t, ss, newSession(u.ID, when.Add(2*time.Second)))

	for _, want := range []*auth.Session{bound, long, unbound} {
		got, err := ss.Session(ctx, want.ID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		equalSession(t, "Session", got, want)
	}

	at := when.Add(time.Minute)
	if err := ss.RotateSession(ctx, bound.ID, bound.CurrentJTI, "jti-child", at, "ua", "192.0.2.1"); err != nil {
		t.Fatalf("RotateSession: %v", err)
	}
	if err := ss.UseGrace(ctx, bound.ID, bound.CurrentJTI, 2); err != nil {
		t.Fatalf("UseGrace: %v", err)
	}
	got, err := ss.Session(ctx, bound.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DPoPJKT != bound.DPoPJKT {
		t.Errorf("DPoPJKT after rotation and a grace use = %q, want %q", got.DPoPJKT, bound.DPoPJKT)
	}
	list, err := ss.UserSessions(ctx, u.ID, when)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].DPoPJKT != bound.DPoPJKT || list[1].DPoPJKT != long.DPoPJKT || list[2].DPoPJKT != "" {
		t.Errorf("UserSessions lost the DPoP thumbprints: %d sessions", len(list))
	}
	if err := ss.RevokeSession(ctx, bound.ID, at); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.Session(ctx, bound.ID); err != nil || got.DPoPJKT != bound.DPoPJKT {
		t.Errorf("revoked session: %v, DPoPJKT kept = %v", err, got != nil && got.DPoPJKT == bound.DPoPJKT)
	}
}
