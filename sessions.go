package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/google/uuid"
)

// newSessionID returns a new session's ID: a UUIDv7, whose first bits are
// the time, so that a store's primary-key index takes new sessions in one
// narrow, recent range (its end, once older random IDs are gone), in pages
// it holds in memory, instead of at a random page of an index of ten
// million. It says when the session began, which the session
// list shows anyway; it is no secret (refresh tokens are signed).
func newSessionID() string { return uuid.Must(uuid.NewV7()).String() }

// newSession returns the grant for the first refresh token of a login and,
// when the store keeps sessions, the session to store once the tokens are
// signed (nil otherwise).
func (a *Authenticator) newSession(ctx context.Context, u *User) (refreshGrant, *Session) {
	now := a.now()
	jkt := dpopThumbprint(ctx)
	if a.sessions == nil {
		g := a.statelessGrant(now)
		g.bound, g.accessJKT = jkt, jkt
		return g, nil
	}
	ci := clientOf(ctx)
	s := &Session{
		ID:           newSessionID(),
		UserID:       u.ID,
		TokenVersion: u.TokenVersion,
		CurrentJTI:   uuid.NewString(),
		CreatedAt:    now,
		ExpiresAt:    now.Add(a.cfg.refreshTTL),
		RotatedAt:    now,
		LastUsedAt:   now,
		UserAgent:    ci.userAgent,
		IP:           ci.ip,
		DPoPJKT:      jkt,
	}
	return refreshGrant{session: s.ID, jti: s.CurrentJTI, issuedAt: now, expires: s.ExpiresAt, bound: jkt, accessJKT: jkt}, s
}

// maxRotateAttempts bounds the re-reads after losing a rotation race; each
// loss means another request rotated, so the next read decides.
const maxRotateAttempts = 3

// rotate exchanges the refresh token c of user u within its session:
//   - c is the session's current token: it is replaced by a new child
//     (atomically; of concurrent exchanges exactly one rotates).
//   - c is the token just replaced, within the grace window, presented by
//     the client that rotated it (address and user agent), at most
//     WithRefreshGraceUses times: the current child is signed again: the
//     same claims as the token the rotation issued (byte for byte with
//     HS256, EdDSA and RS256; ES256 signatures are randomized).
//   - anything else is reuse: the session is revoked.
func (a *Authenticator) rotate(ctx context.Context, u *User, c *jose.Claims) (refreshGrant, error) {
	if c.Session == "" {
		// Issued before the store kept sessions: log in again.
		return refreshGrant{}, ErrTokenInvalidated
	}
	for range maxRotateAttempts {
		s, err := a.sessions.Session(ctx, c.Session)
		if errors.Is(err, ErrSessionNotFound) {
			return refreshGrant{}, ErrTokenInvalidated
		}
		if err != nil {
			return refreshGrant{}, a.storeErr("look up session", err)
		}
		now := a.now()
		if s.UserID != u.ID {
			return refreshGrant{}, ErrInvalidToken
		}
		if !a.live(s, u, now) {
			return refreshGrant{}, ErrTokenInvalidated
		}
		if err := checkBinding(s.DPoPJKT, dpopThumbprint(ctx)); err != nil {
			// The refresh token left the client that holds the key.
			a.reuseDetected(ctx, s, u)
			return refreshGrant{}, joinErr(ErrTokenReused, err)
		}
		switch {
		case c.ID == s.CurrentJTI:
			child := uuid.NewString()
			ci := clientOf(ctx)
			err := a.sessions.RotateSession(ctx, s.ID, c.ID, child, now, ci.userAgent, ci.ip)
			if errors.Is(err, ErrConflict) {
				continue // someone else rotated or revoked: read again
			}
			if errors.Is(err, ErrSessionNotFound) {
				return refreshGrant{}, ErrTokenInvalidated
			}
			if err != nil {
				return refreshGrant{}, a.storeErr("rotate session", err)
			}
			return refreshGrant{session: s.ID, jti: child, issuedAt: now, expires: s.ExpiresAt, bound: s.DPoPJKT}, nil
		case c.ID == s.PreviousJTI && a.cfg.refreshGrace > 0 && now.Sub(s.RotatedAt) <= a.cfg.refreshGrace && a.sameClient(ctx, s):
			err := a.sessions.UseGrace(ctx, s.ID, c.ID, a.cfg.graceUses)
			switch {
			case errors.Is(err, ErrConflict):
				// The window's answers are spent, or the session moved
				// on: a further replay is treated as theft.
				a.reuseDetected(ctx, s, u)
				return refreshGrant{}, ErrTokenReused
			case errors.Is(err, ErrSessionNotFound):
				return refreshGrant{}, ErrTokenInvalidated
			case err != nil:
				return refreshGrant{}, a.storeErr("use grace window", err)
			}
			return refreshGrant{session: s.ID, jti: s.CurrentJTI, issuedAt: s.RotatedAt, expires: s.ExpiresAt, grace: true, bound: s.DPoPJKT}, nil
		default:
			a.reuseDetected(ctx, s, u)
			return refreshGrant{}, ErrTokenReused
		}
	}
	return refreshGrant{}, fmt.Errorf("auth: rotate session: %w", ErrConflict)
}

// sameClient reports whether the request of ctx comes from the client that
// made the session's last rotation, as the server sees it (address and
// user agent): only that client's concurrent or retried refreshes are
// answered from the grace window.
// A request that names no client (a direct call without ContextWithClient)
// matches nobody: without a client to bind it to, the window would be open
// to anyone.
func (a *Authenticator) sameClient(ctx context.Context, s *Session) bool {
	ci := clientOf(ctx)
	if ci.ip == "" && ci.userAgent == "" {
		return false
	}
	return ci.ip == s.RotatedIP && ci.userAgent == s.RotatedUserAgent
}

// sessionState is what an instance remembers of a session for the access
// tokens that carry its ID.
type sessionState struct {
	ended   bool
	fetched time.Time
}

// endedForGood marks a session this instance ended: its access tokens fail
// from the next request on, and no later read can bring it back.
var endedForGood = &sessionState{ended: true}

// sessionLive reports whether the session with the given ID can still
// back its access tokens: from the cache when this instance ended it or
// read it within the user-cache TTL, from the store otherwise. A session
// the store no longer has was ended (or pruned after it expired).
func (a *Authenticator) sessionLive(ctx context.Context, id string, now time.Time) (bool, error) {
	if st, ok := a.ended.Get(id); ok && (st.ended || now.Sub(st.fetched) < a.cfg.userCacheTTL) {
		return !st.ended, nil
	}
	s, err := a.sessions.Session(ctx, id)
	switch {
	case errors.Is(err, ErrSessionNotFound):
		a.ended.Put(id, endedForGood)
		return false, nil
	case err != nil:
		return false, err
	}
	ended := !s.RevokedAt.IsZero()
	st := endedForGood
	if !ended {
		st = &sessionState{fetched: now}
	}
	a.ended.PutUnless(id, st, func(old *sessionState) bool { return old.ended })
	return !ended, nil
}

// sessionEnded records that this instance ended a session.
func (a *Authenticator) sessionEnded(id string) { a.ended.Put(id, endedForGood) }

// live reports whether session s of user u can still be used at now.
func (a *Authenticator) live(s *Session, u *User, now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt) && s.TokenVersion == u.TokenVersion
}

func (a *Authenticator) reuseDetected(ctx context.Context, s *Session, u *User) {
	a.sessionEnded(s.ID)
	if err := a.sessions.RevokeSession(ctx, s.ID, a.now()); err != nil {
		a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: revoking a session after refresh token reuse failed",
			slog.String("user_id", s.UserID), slog.String("session_id", s.ID), slog.String("error", err.Error()))
	}
	e := event(ctx, u)
	e.SessionID = s.ID
	a.report(ctx, slog.LevelWarn, "auth: refresh token reused; session revoked", a.cfg.hooks.ReuseDetected, e)
}

// endSessions revokes every session of a user whose token version just
// changed. The version change alone already stops the sessions; this only
// tidies the session list, so a failure is logged, not returned.
func (a *Authenticator) endSessions(ctx context.Context, userID string) {
	if a.sessions == nil {
		return
	}
	if err := a.sessions.RevokeUserSessions(ctx, userID, a.now()); err != nil {
		a.failureLog().LogAttrs(ctx, slog.LevelWarn, "auth: revoking sessions failed",
			slog.String("user_id", userID), slog.String("error", err.Error()))
	}
}

// Logout ends the session of a refresh token. It succeeds, doing nothing,
// for a token that is expired, whose session is unknown or already ended,
// or when the store keeps no sessions, so that the answer says nothing about
// the session. It returns an error wrapping [ErrInvalidToken] only for a
// token that is not a genuine refresh token. The session's access tokens
// fail from the next request on this Authenticator, and within
// [WithUserCacheTTL] on others sharing the store.
func (a *Authenticator) Logout(ctx context.Context, refreshToken string) error {
	c, err := a.parse(refreshToken, jose.TypeRefresh)
	if errors.Is(err, ErrTokenExpired) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.sessions == nil || c.Session == "" {
		return nil
	}
	s, err := a.sessions.Session(ctx, c.Session)
	if errors.Is(err, ErrSessionNotFound) {
		return nil
	}
	if err != nil {
		return a.storeErr("look up session", err)
	}
	if s.UserID != c.Subject {
		return nil
	}
	if err := a.sessions.RevokeSession(ctx, s.ID, a.now()); err != nil {
		return a.storeErr("revoke session", err)
	}
	a.sessionEnded(s.ID)
	e := event(ctx, nil)
	e.UserID, e.SessionID = s.UserID, s.ID
	a.report(ctx, slog.LevelInfo, "auth: logged out", a.cfg.hooks.LoggedOut, e)
	return nil
}

// LogoutAll ends every session of the user and invalidates every token the
// user holds, access tokens included, by incrementing the token version.
func (a *Authenticator) LogoutAll(ctx context.Context, userID string) error {
	u, err := a.modifyUser(ctx, userID, "logout all", func(u *User) (bool, error) {
		u.TokenVersion++
		return true, nil
	})
	if err != nil {
		return err
	}
	a.report(ctx, slog.LevelInfo, "auth: logged out everywhere", a.cfg.hooks.LoggedOut, event(ctx, u))
	return nil
}

// Sessions returns the user's live sessions, oldest first. It returns
// [ErrSessionsUnsupported] when the store keeps no sessions.
func (a *Authenticator) Sessions(ctx context.Context, userID string) ([]*Session, error) {
	if a.sessions == nil {
		return nil, ErrSessionsUnsupported
	}
	u, err := a.store.UserByID(ctx, userID)
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	now := a.now()
	all, err := a.sessions.UserSessions(ctx, userID, now)
	if err != nil {
		return nil, a.storeErr("list sessions", err)
	}
	live := all[:0]
	for _, s := range all {
		if a.live(s, u, now) {
			live = append(live, s)
		}
	}
	return live, nil
}

// RevokeSession ends one of the user's own sessions. It returns an error
// wrapping [ErrSessionNotFound] when the user has no live session with that
// ID, including when the ID belongs to someone else.
func (a *Authenticator) RevokeSession(ctx context.Context, userID, sessionID string) error {
	if a.sessions == nil {
		return ErrSessionsUnsupported
	}
	u, err := a.store.UserByID(ctx, userID)
	if err != nil {
		return a.storeErr("look up user", err)
	}
	s, err := a.sessions.Session(ctx, sessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return ErrSessionNotFound
	}
	if err != nil {
		return a.storeErr("look up session", err)
	}
	if s.UserID != userID || !a.live(s, u, a.now()) {
		return ErrSessionNotFound
	}
	if err := a.sessions.RevokeSession(ctx, s.ID, a.now()); err != nil {
		return a.storeErr("revoke session", err)
	}
	a.sessionEnded(s.ID)
	return nil
}

// PruneSessions deletes expired and revoked sessions and returns how many it
// deleted. Nothing calls it behind your back: run it from a ticker or a cron
// job (the example server prunes hourly). Without it the records only take
// space; expired sessions never work. It is not bound by WithStoreTimeout:
// a store may prune in batches (sqlstore does, see its WithPruneBatch), which
// takes minutes at millions of sessions, so bound it with ctx. On an error
// it returns how many sessions it had deleted, with the error.
func (a *Authenticator) PruneSessions(ctx context.Context) (int, error) {
	if a.sessions == nil {
		return 0, nil
	}
	n, err := a.sessions.DeleteSessions(ctx, a.now())
	if err != nil {
		return n, a.storeErr("prune sessions", err)
	}
	return n, nil
}
