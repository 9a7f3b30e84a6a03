package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// One-time tokens are the secret in every mailed link. A token is a short
// prefix naming its purpose, an underscore and 32 random bytes in base64url;
// stores keep only the SHA-256 of the whole token, so a token relabelled
// for another purpose hashes to a token that does not exist. A token is
// single use (ConsumeOneTimeToken), bound to one user and purpose,
// expires, and is void once its binding (the user's token version and
// email) no longer matches: a password change, reset, logout-all,
// disabling or email change voids it, and so does a newer token of the
// same purpose, which replaces it in the store.

// tokenPrefixes maps purposes to the prefixes of their tokens.
var tokenPrefixes = map[MailKind]string{
	MailVerifyEmail:   "ve",
	MailResetPassword: "rp",
	MailChangeEmail:   "ce",
	MailMagicLink:     "ml",
}

// oneTimeRandomBytes is the entropy of a token.
const oneTimeRandomBytes = 32

// oneTimeTokenLen is the length of every token: prefix, "_", 43 base64url
// characters.
const oneTimeTokenLen = 2 + 1 + 43

// newOneTimeToken returns a fresh token for purpose and its hash.
func newOneTimeToken(purpose MailKind) (token, hash string, err error) {
	var raw [oneTimeRandomBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	token = tokenPrefixes[purpose] + "_" + base64.RawURLEncoding.EncodeToString(raw[:])
	return token, hashOneTimeToken(token), nil
}

// hashOneTimeToken is what a store keeps of token.
func hashOneTimeToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// parseOneTimeToken returns the purpose a token claims and its hash, or
// false for text that cannot be a token (so no store is asked).
func parseOneTimeToken(token string) (MailKind, string, bool) {
	if len(token) != oneTimeTokenLen || token[2] != '_' {
		return "", "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token[3:]); err != nil {
		return "", "", false
	}
	for purpose, prefix := range tokenPrefixes {
		if token[:2] == prefix {
			return purpose, hashOneTimeToken(token), true
		}
	}
	return "", "", false
}

// tokenBinding digests the state of u that a token must still find: its
// ID, token version and canonical email. Not a secret: it only has to
// change when they do.
func tokenBinding(u *User) string {
	email := ""
	if u.Email != "" {
		email = canonicalEmail(u.Email)
	}
	sum := sha256.Sum256([]byte("gatehouse one-time binding\x00" + u.ID + "\x00" +
		strconv.FormatInt(u.TokenVersion, 10) + "\x00" + email))
	return hex.EncodeToString(sum[:16])
}

// errBadOneTime is the cause, for logs, of every refused token; clients
// see ErrOneTimeTokenInvalid only.
var errBadOneTime = ErrOneTimeTokenInvalid

// issueToken makes and stores a token of purpose for u, mailed to email,
// and returns it.
func (a *Authenticator) issueToken(ctx context.Context, u *User, purpose MailKind, email string) (string, error) {
	token, hash, err := newOneTimeToken(purpose)
	if err != nil {
		return "", err
	}
	now := a.now()
	t := &OneTimeToken{
		Hash: hash, UserID: u.ID, Purpose: string(purpose), Email: email, Binding: tokenBinding(u),
		CreatedAt: now, ExpiresAt: now.Add(a.cfg.mail.ttl[purpose]),
	}
	if err := a.onetime.SaveOneTimeToken(ctx, t); err != nil {
		return "", a.storeErr("save one-time token", err)
	}
	return token, nil
}

// checkToken returns the user that the stored token t is for, or
// ErrOneTimeTokenInvalid when t is of another purpose, expired, for a user
// that is gone, or no longer matches the user's state.
func (a *Authenticator) checkToken(ctx context.Context, t *OneTimeToken, purpose MailKind) (*User, error) {
	if t.Purpose != string(purpose) || !a.now().Before(t.ExpiresAt) {
		return nil, errBadOneTime
	}
	u, err := a.store.UserByID(ctx, t.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return nil, errBadOneTime
	}
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	if tokenBinding(u) != t.Binding {
		return nil, errBadOneTime
	}
	return u, nil
}

// redeemBudget is the failure budget of the redeem endpoints, per client
// address.
type redeemBudget struct {
	l    Limiter // nil when off
	keys keyer
}

// admit checks that the client of ctx has a failure left and returns its
// key ("" when it is not limited).
func (b *redeemBudget) admit(ctx context.Context) (string, error) {
	addr := clientOf(ctx).addr
	if b.l == nil || !addr.IsValid() {
		return "", nil
	}
	key := b.keys.key("redeem", addrKey(addr))
	wait, err := check(ctx, b.l, key)
	if err != nil {
		return "", err
	}
	if wait > 0 {
		return "", &ThrottledError{RetryAfter: wait, Budget: budgetRedeem}
	}
	return key, nil
}

// failed charges a failure to key.
func (b *redeemBudget) failed(ctx context.Context, key string, log *slog.Logger) {
	if key == "" {
		return
	}
	if err := b.l.Charge(context.WithoutCancel(ctx), key); err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "auth: redeem limiter update failed", slog.String("error", err.Error()))
	}
}

// redeem runs the common part of every redemption under the failure
// budget: fn gets the token's claimed purpose and hash, and a bad token it
// reports is charged to the client.
func (a *Authenticator) redeem(ctx context.Context, token string, fn func(purpose MailKind, hash string) error) error {
	if a.mail == nil {
		return ErrEmailUnsupported
	}
	key, err := a.mail.redeem.admit(ctx)
	if err != nil {
		return err
	}
	purpose, hash, ok := parseOneTimeToken(strings.TrimSpace(token))
	if !ok {
		err = errBadOneTime
	} else {
		err = fn(purpose, hash)
	}
	if errors.Is(err, ErrOneTimeTokenInvalid) {
		a.mail.redeem.failed(ctx, key, a.failureLog())
	}
	return err
}

// consume takes the token with hash out of the store and checks it.
func (a *Authenticator) consume(ctx context.Context, hash string, purpose MailKind) (*OneTimeToken, *User, error) {
	t, err := a.onetime.ConsumeOneTimeToken(ctx, hash)
	if errors.Is(err, ErrOneTimeTokenNotFound) {
		return nil, nil, errBadOneTime
	}
	if err != nil {
		return nil, nil, a.storeErr("consume one-time token", err)
	}
	u, err := a.checkToken(ctx, t, purpose)
	return t, u, err
}

// PruneOneTimeTokens deletes expired one-time tokens and returns how many
// it deleted. Like [Authenticator.PruneSessions], nothing calls it behind
// your back: run it from the same ticker or cron job. Expired tokens never
// work; without it they only take space.
func (a *Authenticator) PruneOneTimeTokens(ctx context.Context) (int, error) {
	if a.onetime == nil {
		return 0, nil
	}
	n, err := a.onetime.DeleteExpiredOneTimeTokens(ctx, a.now())
	if err != nil {
		return n, a.storeErr("prune one-time tokens", err)
	}
	return n, nil
}

// humanDuration says d the way a mail would: "30 minutes", "24 hours".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	}
	return plural(int64(d/time.Second), "second")
}
