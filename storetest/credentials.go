package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// runCredentials checks the [auth.CredentialStore] contract.
func runCredentials(t *testing.T, newStore func(t *testing.T) (auth.UserStore, auth.CredentialStore)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, us auth.UserStore, cs auth.CredentialStore)
	}{
		{"TOTP", testTOTP},
		{"ConcurrentTOTPStep", testConcurrentTOTPStep},
		{"RecoveryCodes", testRecoveryCodes},
		{"ConcurrentRecoveryCode", testConcurrentRecoveryCode},
		{"Passkeys", testPasskeys},
		{"PasskeyOwnership", testPasskeyOwnership},
		{"ConcurrentPasskeyUse", testConcurrentPasskeyUse},
		{"DeleteUserCredentials", testDeleteUserCredentials},
		{"DeleteUserRemovesCredentials", testDeleteUserRemovesCredentials},
		{"Nonces", testNonces},
		{"CredentialsMalformedIDs", testCredentialsMalformedIDs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			us, cs := newStore(t)
			tc.fn(t, us, cs)
		})
	}
}

func newPasskey(userID, id string, created time.Time) *auth.Passkey {
	return &auth.Passkey{
		ID: id, UserID: userID, CredentialID: []byte("cred-" + id), UserHandle: bytes.Repeat([]byte{7}, 32),
		PublicKey: []byte{0xa5, 0x01, 0x02, 0x03, 0x26}, Name: "Key " + id, SignCount: 5,
		BackupEligible: true, BackupState: false, AAGUID: bytes.Repeat([]byte{1}, 16),
		Transports: []string{"internal", "hybrid"}, CreatedAt: created, LastUsedAt: created,
	}
}

func testTOTP(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "totp")
	if _, err := cs.UserTOTP(ctx, u.ID); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Fatalf("UserTOTP before any: %v", err)
	}
	if err := cs.ConfirmTOTP(ctx, u.ID, []byte("s"), 1); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("ConfirmTOTP before any: %v", err)
	}
	if err := cs.UseTOTPStep(ctx, u.ID, 1); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("UseTOTPStep before any: %v", err)
	}
	want := &auth.TOTP{Secret: []byte{1, 0, 2, 0xff}, CreatedAt: when}
	if err := cs.SetTOTP(ctx, u.ID, want); err != nil {
		t.Fatal(err)
	}
	want.Secret[0] = 9 // the store must have copied it
	got, err := cs.UserTOTP(ctx, u.ID)
	if err != nil || !reflect.DeepEqual(got, &auth.TOTP{Secret: []byte{1, 0, 2, 0xff}, CreatedAt: when}) {
		t.Fatalf("UserTOTP = %+v, %v", got, err)
	}
	if err := cs.UseTOTPStep(ctx, u.ID, 5); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("UseTOTPStep while unconfirmed: %v", err)
	}
	if err := cs.ConfirmTOTP(ctx, u.ID, []byte("other"), 100); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("ConfirmTOTP of another secret: %v", err)
	}
	if err := cs.ConfirmTOTP(ctx, u.ID, []byte{1, 0, 2, 0xff}, 100); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	if err := cs.ConfirmTOTP(ctx, u.ID, []byte{1, 0, 2, 0xff}, 101); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("ConfirmTOTP twice: %v", err)
	}
	for _, step := range []int64{100, 99} {
		if err := cs.UseTOTPStep(ctx, u.ID, step); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("UseTOTPStep(%d) after 100: %v", step, err)
		}
	}
	if err := cs.UseTOTPStep(ctx, u.ID, 102); err != nil {
		t.Fatal(err)
	}
	got, _ = cs.UserTOTP(ctx, u.ID)
	if !got.Confirmed || got.LastStep != 102 {
		t.Errorf("after use: %+v", got)
	}
	// SetTOTP replaces, also a confirmed one.
	if err := cs.SetTOTP(ctx, u.ID, &auth.TOTP{Secret: []byte("new"), CreatedAt: when.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ = cs.UserTOTP(ctx, u.ID); got.Confirmed || got.LastStep != 0 || string(got.Secret) != "new" {
		t.Errorf("after SetTOTP: %+v", got)
	}
	for range 2 {
		if err := cs.DeleteTOTP(ctx, u.ID); err != nil {
			t.Errorf("DeleteTOTP: %v", err)
		}
	}
	if _, err := cs.UserTOTP(ctx, u.ID); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func testConcurrentTOTPStep(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "totp")
	if err := cs.SetTOTP(ctx, u.ID, &auth.TOTP{Secret: []byte("s"), CreatedAt: when}); err != nil {
		t.Fatal(err)
	}
	if err := cs.ConfirmTOTP(ctx, u.ID, []byte("s"), 1); err != nil {
		t.Fatal(err)
	}
	if n := concurrentConflicts(t, 8, func(int) error { return cs.UseTOTPStep(ctx, u.ID, 2) }); n != 1 {
		t.Errorf("%d concurrent uses of one step succeeded, want 1", n)
	}
}

func testRecoveryCodes(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "codes")
	count := func(want int) {
		t.Helper()
		if n, err := cs.RecoveryCodeCount(ctx, u.ID); err != nil || n != want {
			t.Errorf("RecoveryCodeCount = %d, %v; want %d", n, err, want)
		}
	}
	count(0)
	if err := cs.UseRecoveryCode(ctx, u.ID, "h1"); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("UseRecoveryCode of none: %v", err)
	}
	if err := cs.SetRecoveryCodes(ctx, u.ID, []string{"h1", "h2", "h3"}); err != nil {
		t.Fatal(err)
	}
	count(3)
	if err := cs.UseRecoveryCode(ctx, u.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	if err := cs.UseRecoveryCode(ctx, u.ID, "h2"); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("UseRecoveryCode twice: %v", err)
	}
	if err := cs.UseRecoveryCode(ctx, u.ID, "H1"); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("hashes compare byte for byte: %v", err)
	}
	count(2)
	other := sessionUser(t, us, "other")
	if err := cs.UseRecoveryCode(ctx, other.ID, "h1"); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("another user's code: %v", err)
	}
	if err := cs.SetRecoveryCodes(ctx, u.ID, []string{"h4"}); err != nil {
		t.Fatal(err)
	}
	count(1)
	if err := cs.UseRecoveryCode(ctx, u.ID, "h1"); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("replaced code: %v", err)
	}
	if err := cs.SetRecoveryCodes(ctx, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	count(0)
}

func testConcurrentRecoveryCode(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "codes")
	if err := cs.SetRecoveryCodes(ctx, u.ID, []string{"h1", "h2"}); err != nil {
		t.Fatal(err)
	}
	n := concurrentConflicts(t, 8, func(int) error {
		if err := cs.UseRecoveryCode(ctx, u.ID, "h1"); errors.Is(err, auth.ErrCredentialNotFound) {
			return fmt.Errorf("%w", auth.ErrConflict) // lost the race
		} else {
			return err
		}
	})
	if n != 1 {
		t.Errorf("%d concurrent uses of one code succeeded, want 1", n)
	}
}

func equalPasskey(t *testing.T, what string, got, want *auth.Passkey) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.LastUsedAt.Equal(w.LastUsedAt) {
		t.Errorf("%s: times %v %v, want %v %v", what, g.CreatedAt, g.LastUsedAt, w.CreatedAt, w.LastUsedAt)
	}
	g.CreatedAt, g.LastUsedAt, w.CreatedAt, w.LastUsedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(g.Transports) == 0 && len(w.Transports) == 0 {
		g.Transports, w.Transports = nil, nil
	}
	if len(g.AAGUID) == 0 && len(w.AAGUID) == 0 {
		g.AAGUID, w.AAGUID = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func testPasskeys(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "keys")
	if list, err := cs.UserPasskeys(ctx, u.ID); err != nil || len(list) != 0 {
		t.Fatalf("UserPasskeys of none = %v, %v", list, err)
	}
	p1 := newPasskey(u.ID, "pk-1", when)
	p2 := newPasskey(u.ID, "pk-2", when.Add(time.Second))
	p2.Transports, p2.AAGUID, p2.BackupEligible = nil, nil, false
	for _, p := range []*auth.Passkey{p2, p1} {
		if err := cs.CreatePasskey(ctx, p); err != nil {
			t.Fatalf("CreatePasskey: %v", err)
		}
	}
	dup := newPasskey(u.ID, "pk-3", when)
	dup.CredentialID = p1.CredentialID
	if err := cs.CreatePasskey(ctx, dup); !errors.Is(err, auth.ErrCredentialExists) {
		t.Errorf("duplicate credential ID: %v", err)
	}
	dup = newPasskey(u.ID, "pk-1", when)
	dup.CredentialID = []byte("fresh")
	if err := cs.CreatePasskey(ctx, dup); !errors.Is(err, auth.ErrCredentialExists) {
		t.Errorf("duplicate ID: %v", err)
	}
	list, err := cs.UserPasskeys(ctx, u.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("UserPasskeys = %v, %v", list, err)
	}
	equalPasskey(t, "first", list[0], p1)
	equalPasskey(t, "second", list[1], p2)
	got, err := cs.PasskeyByCredentialID(ctx, p1.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	equalPasskey(t, "by credential ID", got, p1)
	if _, err := cs.PasskeyByCredentialID(ctx, []byte("nope")); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("unknown credential ID: %v", err)
	}

	later := when.Add(time.Hour)
	if err := cs.UpdatePasskeyUse(ctx, u.ID, "pk-1", 4, 9, true, later); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("UpdatePasskeyUse from a stale count: %v", err)
	}
	if err := cs.UpdatePasskeyUse(ctx, u.ID, "pk-1", 5, 9, true, later); err != nil {
		t.Fatal(err)
	}
	if err := cs.RenamePasskey(ctx, u.ID, "pk-1", "Laptop ✓"); err != nil {
		t.Fatal(err)
	}
	got, _ = cs.PasskeyByCredentialID(ctx, p1.CredentialID)
	p1.SignCount, p1.BackupState, p1.LastUsedAt, p1.Name = 9, true, later, "Laptop ✓"
	equalPasskey(t, "after use and rename", got, p1)

	if err := cs.DeletePasskey(ctx, u.ID, "pk-1"); err != nil {
		t.Fatal(err)
	}
	if err := cs.DeletePasskey(ctx, u.ID, "pk-1"); !errors.Is(err, auth.ErrCredentialNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	for _, err := range []error{
		cs.RenamePasskey(ctx, u.ID, "pk-1", "x"),
		cs.UpdatePasskeyUse(ctx, u.ID, "pk-1", 9, 10, true, later),
	} {
		if !errors.Is(err, auth.ErrCredentialNotFound) {
			t.Errorf("on a deleted passkey: %v", err)
		}
	}
	if list, _ := cs.UserPasskeys(ctx, u.ID); len(list) != 1 || list[0].ID != "pk-2" {
		t.Errorf("after delete: %v", list)
	}
}

func testPasskeyOwnership(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "owner")
	other := sessionUser(t, us, "other")
	if err := cs.CreatePasskey(ctx, newPasskey(u.ID, "pk-1", when)); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		cs.RenamePasskey(ctx, other.ID, "pk-1", "mine"),
		cs.DeletePasskey(ctx, other.ID, "pk-1"),
		cs.UpdatePasskeyUse(ctx, other.ID, "pk-1", 5, 6, false, when),
	} {
		if !errors.Is(err, auth.ErrCredentialNotFound) {
			t.Errorf("another user's passkey: %v", err)
		}
	}
	if list, _ := cs.UserPasskeys(ctx, other.ID); len(list) != 0 {
		t.Errorf("other user's list: %v", list)
	}
	got, _ := cs.PasskeyByCredentialID(ctx, []byte("cred-pk-1"))
	if got == nil || got.Name != "Key pk-1" || got.SignCount != 5 {
		t.Errorf("after the other user's attempts: %+v", got)
	}
}

func testConcurrentPasskeyUse(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	u := sessionUser(t, us, "keys")
	if err := cs.CreatePasskey(ctx, newPasskey(u.ID, "pk-1", when)); err != nil {
		t.Fatal(err)
	}
	n := concurrentConflicts(t, 8, func(i int) error {
		return cs.UpdatePasskeyUse(ctx, u.ID, "pk-1", 5, uint32(6+i), false, when)
	})
	if n != 1 {
		t.Errorf("%d concurrent updates from one count succeeded, want 1", n)
	}
}

func seedCredentials(t *testing.T, cs auth.CredentialStore, userID string) {
	t.Helper()
	ctx := context.Background()
	if err := cs.SetTOTP(ctx, userID, &auth.TOTP{Secret: []byte("s"), CreatedAt: when}); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetRecoveryCodes(ctx, userID, []string{"h-" + userID}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CreatePasskey(ctx, newPasskey(userID, "pk-"+userID, when)); err != nil {
		t.Fatal(err)
	}
}

func checkNoCredentials(t *testing.T, cs auth.CredentialStore, userID string, none bool) {
	t.Helper()
	ctx := context.Background()
	_, err := cs.UserTOTP(ctx, userID)
	n, _ := cs.RecoveryCodeCount(ctx, userID)
	keys, _ := cs.UserPasskeys(ctx, userID)
	_, perr := cs.PasskeyByCredentialID(ctx, []byte("cred-pk-"+userID))
	gone := errors.Is(err, auth.ErrCredentialNotFound) && n == 0 && len(keys) == 0 && errors.Is(perr, auth.ErrCredentialNotFound)
	if gone != none {
		t.Errorf("user %s: TOTP %v, %d codes, %d passkeys, lookup %v; want none: %v", userID, err, n, len(keys), perr, none)
	}
}

func testDeleteUserCredentials(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	u := sessionUser(t, us, "reset")
	keep := sessionUser(t, us, "keep")
	seedCredentials(t, cs, u.ID)
	seedCredentials(t, cs, keep.ID)
	for range 2 {
		if err := cs.DeleteUserCredentials(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	checkNoCredentials(t, cs, u.ID, true)
	checkNoCredentials(t, cs, keep.ID, false)
}

func testDeleteUserRemovesCredentials(t *testing.T, us auth.UserStore, cs auth.CredentialStore) {
	u := sessionUser(t, us, "gone")
	seedCredentials(t, cs, u.ID)
	if err := us.DeleteUser(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	checkNoCredentials(t, cs, u.ID, true)
}

func testNonces(t *testing.T, _ auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	if err := cs.UseNonce(ctx, "n1", when); err != nil {
		t.Fatal(err)
	}
	if err := cs.UseNonce(ctx, "n1", when.Add(time.Hour)); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("UseNonce twice: %v", err)
	}
	if err := cs.UseNonce(ctx, "n2", when.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := concurrentConflicts(t, 8, func(int) error { return cs.UseNonce(ctx, "n3", when) }); n != 1 {
		t.Errorf("%d concurrent uses of one nonce succeeded, want 1", n)
	}
	n, err := cs.DeleteNonces(ctx, when.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteNonces = %d, %v; want 2", n, err)
	}
	if err := cs.UseNonce(ctx, "n2", when); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("unexpired nonce forgotten: %v", err)
	}
}

func testCredentialsMalformedIDs(t *testing.T, _ auth.UserStore, cs auth.CredentialStore) {
	ctx := context.Background()
	for _, id := range []string{"bad\x00id", "\xff", string(bytes.Repeat([]byte("x"), 300))} {
		if _, err := cs.UserTOTP(ctx, id); !errors.Is(err, auth.ErrCredentialNotFound) {
			t.Errorf("UserTOTP(%q): %v", id, err)
		}
		if err := cs.UseRecoveryCode(ctx, id, "h"); !errors.Is(err, auth.ErrCredentialNotFound) {
			t.Errorf("UseRecoveryCode(%q): %v", id, err)
		}
		if list, err := cs.UserPasskeys(ctx, id); err != nil || len(list) != 0 {
			t.Errorf("UserPasskeys(%q) = %v, %v", id, list, err)
		}
		if err := cs.DeletePasskey(ctx, id, id); !errors.Is(err, auth.ErrCredentialNotFound) {
			t.Errorf("DeletePasskey(%q): %v", id, err)
		}
		if err := cs.SetTOTP(ctx, id, &auth.TOTP{Secret: []byte("s"), CreatedAt: when}); err == nil {
			t.Errorf("SetTOTP(%q) succeeded", id)
		}
	}
}
