package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

// TestMigrateKeepsSessionsDPoP: a database at version 3 (sessions without
// a DPoP binding) is brought to version 4 by Migrate; its sessions stay,
// unbound (dpop_jkt ”), and rotate as before, and new sessions keep their
// binding.
func TestMigrateKeepsSessionsDPoP(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		const prefix = "v3_"
		s, err := sqlstore.New(tdb.db, sqlstore.WithTablePrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateTo(ctx, 3); err != nil {
			t.Fatalf("migrate to version 3: %v", err)
		}
		u := testUser("veteran")
		insertOldUser(t, tdb, prefix, u)
		old := testSession(u.ID)
		old.PreviousJTI, old.RotatedUserAgent, old.RotatedIP, old.GraceUses = "jti-parent", "ua", "192.0.2.3", 1
		insertOldSession(t, tdb, prefix, old)

		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 3: %v", err)
		}
		if n, want := countRows(t, tdb.db, prefix+"schema_migrations"), len(upFiles(t, tdb.dialect)); n != want {
			t.Errorf("%d migration rows, want %d", n, want)
		}
		got, err := s.Session(ctx, old.ID)
		if err != nil {
			t.Fatalf("session lost by the upgrade: %v", err)
		}
		if got.DPoPJKT != "" {
			t.Errorf("old session's DPoPJKT = %q, want '' (unbound)", got.DPoPJKT)
		}
		if got.CurrentJTI != old.CurrentJTI || got.PreviousJTI != old.PreviousJTI || got.GraceUses != old.GraceUses ||
			got.RotatedIP != old.RotatedIP || !got.CreatedAt.Equal(old.CreatedAt) || got.UserAgent != old.UserAgent {
			t.Errorf("session changed by the upgrade:\n got %+v\nwant %+v", *got, *old)
		}
		if err := s.RotateSession(ctx, old.ID, old.CurrentJTI, "child", when.Add(time.Minute), "ua", "192.0.2.9"); err != nil {
			t.Fatalf("RotateSession on an old session: %v", err)
		}

		bound := testSession(u.ID)
		bound.DPoPJKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
		if err := s.CreateSession(ctx, bound); err != nil {
			t.Fatalf("CreateSession after the upgrade: %v", err)
		}
		if got, err := s.Session(ctx, bound.ID); err != nil || got.DPoPJKT != bound.DPoPJKT {
			t.Errorf("bound session after the upgrade: %v, %+v", err, got)
		}
		var sessions []*auth.Session
		if sessions, err = s.UserSessions(ctx, u.ID, when); err != nil || len(sessions) != 2 {
			t.Errorf("UserSessions = %d, %v; want 2", len(sessions), err)
		}
	})
}
