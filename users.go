package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// maxUpdateAttempts bounds the read-modify-write retries of SetDisabled and
// ChangePassword when a concurrent update wins the race.
const maxUpdateAttempts = 5

// Register creates a user. The username is stored in its canonical form (see
// [CanonicalUsername]); the password must be 8 to 128 characters and pass the
// password policy ([WithPasswordPolicy]). It returns a [*ValidationError] for
// bad input, an error wrapping [ErrUserExists] when the name is taken, and
// [ErrBusy] when no hashing slot came free in time. A taken name is found
// before the password is hashed, so it costs no hash: the 409 says the
// name is taken anyway, and flooding registration with taken names must
// not keep the hashing slots busy. Registration never takes the last free hashing slot (unless there
// is only one), which stays for logins. Register itself is not throttled;
// the handler applies [WithRegisterLimit] per client address.
func (a *Authenticator) Register(ctx context.Context, username, password string) (*User, error) {
	return a.RegisterWithEmail(ctx, username, password, "")
}

// RegisterWithEmail is [Authenticator.Register] with an email address,
// which may be "" unless [WithEmailRequired] is set. The address is
// checked as [CanonicalEmail] says, stored as given, unverified, and, when
// a mailer is configured, sent a verification link. It returns an error
// wrapping [ErrEmailTaken] when the address is another user's, and
// [ErrEmailUnsupported] for an address when the store keeps none.
func (a *Authenticator) RegisterWithEmail(ctx context.Context, username, password, email string) (*User, error) {
	var verr ValidationError
	name := validateUsername(&verr, username)
	email, err := a.registrationEmail(&verr, email)
	if err != nil {
		return nil, err
	}
	if err := a.validateNewPassword(ctx, &verr, "password", name, password); err != nil {
		return nil, err
	}
	if err := verr.err(); err != nil {
		return nil, err
	}
	e := event(ctx, nil)
	e.Username = name
	if err := before(ctx, a.cfg.hooks.BeforeRegister, e); err != nil {
		return nil, err
	}
	switch _, err := a.store.UserByUsername(ctx, name); {
	case err == nil:
		return nil, fmt.Errorf("auth: create user: %w", ErrUserExists)
	case !errors.Is(err, ErrUserNotFound):
		return nil, a.storeErr("look up user", err)
	}
	hash, err := a.hashForRegistration(ctx, password)
	if err != nil {
		return nil, err
	}
	now := a.now()
	u := &User{Username: name, PasswordHash: hash, TokenVersion: 1, CreatedAt: now, UpdatedAt: now, Email: email}
	if err := a.store.CreateUser(ctx, u); err != nil {
		return nil, a.storeErr("create user", err)
	}
	a.report(ctx, slog.LevelInfo, "auth: user registered", a.cfg.hooks.AfterRegister, event(ctx, u))
	a.registered(ctx, u)
	return u, nil
}

// ChangePassword replaces the password of user after checking current. It
// increments the token version in the same write, so every token issued
// before stops working, while tokens issued afterwards work at once. It
// returns a [*ValidationError] for a new password outside 8 to 128
// characters or one the password policy rejects, [ErrIncorrectPassword] and
// [ErrSamePassword]. Wrong current passwords count against the user's
// login budget like failed logins, and a [*ThrottledError] is returned
// when it is spent (see [Authenticator.Authenticate]).
func (a *Authenticator) ChangePassword(ctx context.Context, user *User, current, newPassword string) error {
	var verr ValidationError
	if err := a.validateNewPassword(ctx, &verr, "new_password", user.Username, newPassword); err != nil {
		return err
	}
	if err := verr.err(); err != nil {
		return err
	}
	at, err := a.throttle.admit(ctx, user.Username)
	if err != nil {
		return err
	}
	err = a.changePassword(ctx, at, user, current, newPassword)
	if err == nil || errors.Is(err, ErrSamePassword) {
		at.succeeded(ctx)
	}
	return err
}

// changePassword does the work of ChangePassword. A wrong current password
// is charged to at.
func (a *Authenticator) changePassword(ctx context.Context, at *attempt, user *User, current, newPassword string) error {
	verifiedHash := ""
	next, err := a.modifyUser(ctx, user.ID, "change password", func(u *User) (bool, error) {
		// A retry after a conflict checks the password again only if the
		// hash it was checked against has changed meanwhile.
		if u.PasswordHash != verifiedHash {
			ok, _, err := a.verifyAttempt(ctx, at, current, u.PasswordHash)
			switch {
			case isTransient(err), errors.Is(err, ErrThrottled):
				return false, err
			case err != nil || !ok:
				return false, ErrIncorrectPassword
			}
			verifiedHash = u.PasswordHash
		}
		if current == newPassword {
			return false, ErrSamePassword
		}
		hash, err := a.hash(ctx, newPassword)
		if err != nil {
			return false, err
		}
		u.PasswordHash = hash
		u.TokenVersion++
		return true, nil
	})
	if err != nil {
		return err
	}
	*user = *next
	a.report(ctx, slog.LevelInfo, "auth: password changed", a.cfg.hooks.PasswordChanged, event(ctx, user))
	return nil
}

// SetDisabled disables or re-enables a user. Disabling increments the token
// version in the same write, which revokes every token and session the user
// holds. Setting the flag to its current value changes nothing.
func (a *Authenticator) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	u, err := a.modifyUser(ctx, userID, "set disabled", func(u *User) (bool, error) {
		if u.Disabled == disabled {
			return false, nil
		}
		u.Disabled = disabled
		if disabled {
			u.TokenVersion++
		}
		return true, nil
	})
	if err == nil && u != nil && disabled {
		a.report(ctx, slog.LevelInfo, "auth: user disabled", a.cfg.hooks.UserDisabled, event(ctx, u))
	}
	return err
}

// modifyUser applies change to a fresh copy of the user and writes it back,
// conditional on nothing having changed in between; on a conflict it reads
// again and retries. change returns false when there is nothing to write,
// and modifyUser then returns a nil user; an error from change ends it.
// After a write, the cache holds the new state and, when the token version
// went up, the user's sessions are ended.
func (a *Authenticator) modifyUser(ctx context.Context, userID, op string, change func(*User) (bool, error)) (*User, error) {
	for range maxUpdateAttempts {
		u, err := a.store.UserByID(ctx, userID)
		if err != nil {
			return nil, a.storeErr("look up user", err)
		}
		next := *u
		if write, err := change(&next); err != nil || !write {
			return nil, err
		}
		next.UpdatedAt = a.now()
		err = a.store.UpdateUser(ctx, &next, u.PasswordHash, u.TokenVersion)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, a.storeErr("update user", err)
		}
		a.remember(&next, a.cfg.clock())
		if next.TokenVersion != u.TokenVersion {
			a.endSessions(ctx, userID)
		}
		return &next, nil
	}
	return nil, fmt.Errorf("auth: %s: %w", op, ErrConflict)
}

// UserByUsername looks a user up by any spelling of the name that has the
// same canonical form ("Alice", "ALICE" and "ａｌｉｃｅ" find "alice"). It
// returns an error wrapping [ErrUserNotFound] when there is none.
func (a *Authenticator) UserByUsername(ctx context.Context, username string) (*User, error) {
	name, err := CanonicalUsername(username)
	if err != nil {
		return nil, ErrUserNotFound
	}
	u, err := a.store.UserByUsername(ctx, name)
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	return u, nil
}

// DeleteUser deletes a user and, when the store keeps them, the user's
// sessions. The user's tokens stop working at once on this Authenticator
// and, on others sharing the store, within [WithUserCacheTTL]. It returns an
// error wrapping [ErrUserNotFound] when there is no such user.
func (a *Authenticator) DeleteUser(ctx context.Context, id string) error {
	if err := a.store.DeleteUser(ctx, id); err != nil {
		return a.storeErr("delete user", err)
	}
	a.users.Remove(id)
	return nil
}

// UserByID returns the user with the given ID, or an error wrapping
// [ErrUserNotFound].
func (a *Authenticator) UserByID(ctx context.Context, id string) (*User, error) {
	u, err := a.store.UserByID(ctx, id)
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	return u, nil
}

// storeErr passes on the store's sentinel outcomes and context errors and
// wraps anything else so that it reads as a store failure in logs.
func (a *Authenticator) storeErr(op string, err error) error {
	if errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrUserExists) || errors.Is(err, ErrConflict) || errors.Is(err, ErrSessionNotFound) {
		return err
	}
	return fmt.Errorf("auth: %s: %w", op, err)
}
