package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// mfaTokenTTL is how long an mfa_token is valid: the time a user has to
// type a code after the password.
const mfaTokenTTL = 5 * time.Minute

// Authentication methods (RFC 8176) carried in the "amr" claim.
const (
	AMRPassword    = "pwd" // a password
	AMROTP         = "otp" // a TOTP or recovery code
	AMRHardwareKey = "hwk" // a passkey bound to its device
	AMRSoftwareKey = "swk" // a passkey that may be synced (backup eligible)
	AMRMultiFactor = "mfa" // more than one factor
)

// mfaThrottle holds the budgets of wrong second-factor codes, per
// mfa_token and per user, and the key that signs mfa_tokens.
//
// An mfa_token is a signed token, not a store record: single use across
// instances comes from recording its jti with [CredentialStore.UseNonce]
// when it is spent, and its failure budget lives in a Limiter keyed by the
// jti, which instances share when the Limiter is shared.
type mfaThrottle struct {
	byToken, byUser Limiter
	keys            keyer
	signKey         []byte
	logger          *slog.Logger
}

func newMFAThrottle(c *config, keys keyer, signKey []byte, logger *slog.Logger) (*mfaThrottle, error) {
	t := &mfaThrottle{byToken: c.mfa.tokenLimiter, byUser: c.mfa.userLimiter, keys: keys, signKey: signKey, logger: logger}
	if !c.mfa.customLimiters {
		var err error
		if t.byToken, err = memoryLimiter(c.mfa.tokenLimit, c); err != nil {
			return nil, err
		}
		if t.byUser, err = memoryLimiter(c.mfa.userLimit, c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *mfaThrottle) userKey(userID string) string { return t.keys.key("mfauser", userID) }
func (t *mfaThrottle) tokenKey(jti string) string   { return t.keys.key("mfatoken", jti) }

// checkUser returns a *ThrottledError when the user's budget is spent.
func (t *mfaThrottle) checkUser(ctx context.Context, key string) error {
	return t.check(ctx, t.byUser, key)
}

func (t *mfaThrottle) check(ctx context.Context, l Limiter, key string) error {
	wait, err := l.Check(ctx, key)
	switch {
	case err != nil:
		return fmt.Errorf("auth: second-factor limiter: %w: %w", ErrUnavailable, err)
	case wait > 0:
		return &ThrottledError{RetryAfter: wait, Budget: "mfa"}
	}
	return nil
}

func (t *mfaThrottle) charge(ctx context.Context, l Limiter, key string) {
	if err := l.Charge(context.WithoutCancel(ctx), key); err != nil {
		t.logger.LogAttrs(ctx, slog.LevelWarn, "auth: second-factor limiter update failed", slog.String("error", err.Error()))
	}
}

func (t *mfaThrottle) reset(ctx context.Context, l Limiter, key string) {
	if err := l.Reset(context.WithoutCancel(ctx), key); err != nil {
		t.logger.LogAttrs(ctx, slog.LevelWarn, "auth: second-factor limiter update failed", slog.String("error", err.Error()))
	}
}

// mfaClaims is the payload of an mfa_token.
type mfaClaims struct {
	Subject string   `json:"sub"`
	Version int64    `json:"ver"`
	ID      string   `json:"jti"`
	Expires int64    `json:"exp"`
	AMR     []string `json:"amr"`
}

const mfaTokenPrefix = "m1."

func (t *mfaThrottle) sign(c mfaClaims) (string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("auth: mfa token: %w", err)
	}
	p := mfaTokenPrefix + base64.RawURLEncoding.EncodeToString(body)
	m := hmac.New(sha256.New, t.signKey)
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// parse checks an mfa_token's signature and expiry. Any fault is
// ErrInvalidToken.
func (t *mfaThrottle) parse(tok string, now time.Time) (*mfaClaims, error) {
	if len(tok) > 1024 || !strings.HasPrefix(tok, mfaTokenPrefix) {
		return nil, ErrInvalidToken
	}
	i := strings.LastIndexByte(tok, '.')
	if i <= len(mfaTokenPrefix) {
		return nil, ErrInvalidToken
	}
	// Strict: a signature has one spelling, so a token has one too.
	sig, err := decodeSegment(tok[i+1:])
	if err != nil {
		return nil, ErrInvalidToken
	}
	m := hmac.New(sha256.New, t.signKey)
	m.Write([]byte(tok[:i]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, ErrInvalidToken
	}
	body, err := decodeSegment(tok[len(mfaTokenPrefix):i])
	if err != nil {
		return nil, ErrInvalidToken
	}
	var c mfaClaims
	if json.Unmarshal(body, &c) != nil || c.Subject == "" || c.ID == "" {
		return nil, ErrInvalidToken
	}
	if !now.Before(time.Unix(c.Expires, 0)) {
		return nil, ErrTokenExpired
	}
	return &c, nil
}

// setupMFA wires second factors: the credential store, the keys, the
// budgets, and last the plug-ins, which see the finished Authenticator.
func (a *Authenticator) setupMFA(store UserStore) error {
	if cs, ok := store.(CredentialStore); ok {
		a.creds = timedCredentials{cs, a.cfg.storeTimeout}
	}
	keys := a.cfg.mfa.encryptionKeys
	if len(keys) == 0 {
		keys = [][]byte{a.signer.Derive("gatehouse encryption key")}
	}
	var err error
	if a.box, err = newSecretBox(keys); err != nil {
		return err
	}
	if a.mfa, err = newMFAThrottle(&a.cfg, a.throttle.keys, a.signer.Derive("gatehouse mfa tokens"), a.throttle.logger); err != nil {
		return err
	}
	a.stateKey = a.signer.Derive("gatehouse plug-in state")
	if a.passkeyBudgets, err = newPasskeyBudgets(&a.cfg, a.throttle.keys); err != nil {
		return err
	}
	return a.installPlugins()
}

// hasSecondFactor reports whether the user has confirmed TOTP or a
// passkey. Without a CredentialStore nobody has.
func (a *Authenticator) hasSecondFactor(ctx context.Context, userID string) (bool, error) {
	if a.creds == nil {
		return false, nil
	}
	t, err := a.creds.UserTOTP(ctx, userID)
	switch {
	case err == nil && t.Confirmed:
		return true, nil
	case err != nil && !errors.Is(err, ErrCredentialNotFound):
		return false, a.storeErr("look up TOTP", err)
	}
	keys, err := a.creds.UserPasskeys(ctx, userID)
	if err != nil {
		return false, a.storeErr("list passkeys", err)
	}
	return len(keys) > 0, nil
}

// secondFactorStep is the login step after the password: nil when the
// user has no second factor, a *MFARequiredError with a new mfa_token when
// it has one.
func (a *Authenticator) secondFactorStep(ctx context.Context, u *User, amr ...string) error {
	has, err := a.hasSecondFactor(ctx, u.ID)
	if err != nil || !has {
		return err
	}
	tok, err := a.mfa.sign(mfaClaims{
		Subject: u.ID, Version: u.TokenVersion, ID: uuid.NewString(),
		Expires: a.cfg.clock().Add(mfaTokenTTL).Unix(), AMR: amr,
	})
	if err != nil {
		return err
	}
	return &MFARequiredError{Token: tok}
}

// VerifyMFA completes a login that answered [*MFARequiredError]: with the
// mfa_token and a TOTP code or an unused recovery code, it issues the
// token pair, whose "amr" says "pwd", "otp" and "mfa".
//
// A wrong code returns [ErrInvalidCode] and counts against the token's
// budget (10 wrong codes) and the user's ([WithMFALimits]); a spent budget
// returns a [*ThrottledError] without checking the code. A token that is
// forged, expired, spent already or older than the user's last password
// change returns an error wrapping [ErrInvalidToken].
func (a *Authenticator) VerifyMFA(ctx context.Context, mfaToken, code string) (TokenPair, error) {
	cs, err := a.credentials()
	if err != nil {
		return TokenPair{}, err
	}
	return a.VerifySecondFactor(ctx, mfaToken, func(ctx context.Context, u *User) (string, error) {
		ok, err := a.useTOTP(ctx, cs, u.ID, code)
		if err != nil || ok {
			return AMROTP, err
		}
		if ok, err = a.useRecoveryCode(ctx, cs, u.ID, code); err != nil || ok {
			if ok {
				a.report(ctx, slog.LevelInfo, "auth: recovery code used", a.cfg.hooks.RecoveryCodeUsed, event(ctx, u))
			}
			return AMROTP, err
		}
		return "", ErrInvalidCode
	})
}

// VerifySecondFactor is the hook through which a second factor completes
// a login that answered [*MFARequiredError]. check verifies the factor
// for the token's user and returns its "amr" value; when it returns an
// error matching [ErrInvalidCode], the failure is charged to the token's
// and the user's budgets. On success the mfa_token is spent (it works
// once, across instances) and the token pair is issued. Plug-ins such as
// passkeys use it; [Authenticator.VerifyMFA] is it with TOTP and recovery
// codes.
func (a *Authenticator) VerifySecondFactor(ctx context.Context, mfaToken string, check func(ctx context.Context, u *User) (method string, err error)) (TokenPair, error) {
	cs, err := a.credentials()
	if err != nil {
		return TokenPair{}, err
	}
	c, err := a.mfa.parse(mfaToken, a.cfg.clock())
	if err != nil {
		return TokenPair{}, err
	}
	tokenKey, userKey := a.mfa.tokenKey(c.ID), a.mfa.userKey(c.Subject)
	if err := a.mfa.check(ctx, a.mfa.byToken, tokenKey); err != nil {
		return TokenPair{}, err
	}
	if err := a.mfa.checkUser(ctx, userKey); err != nil {
		return TokenPair{}, err
	}
	u, err := a.store.UserByID(ctx, c.Subject)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return TokenPair{}, joinErr(ErrInvalidToken, ErrUserNotFound)
	case err != nil:
		return TokenPair{}, a.storeErr("look up user", err)
	case u.Disabled:
		return TokenPair{}, ErrUserDisabled
	case u.TokenVersion != c.Version:
		return TokenPair{}, ErrTokenInvalidated
	}
	method, err := check(ctx, u)
	if errors.Is(err, ErrInvalidCode) {
		a.mfa.charge(ctx, a.mfa.byToken, tokenKey)
		a.mfa.charge(ctx, a.mfa.byUser, userKey)
		e := event(ctx, u)
		e.Err = err
		a.report(ctx, slog.LevelInfo, "auth: second factor failed", a.cfg.hooks.MFAFailed, e)
		return TokenPair{}, err
	}
	if err != nil {
		return TokenPair{}, err
	}
	switch err := cs.UseNonce(ctx, c.ID, time.Unix(c.Expires, 0).UTC()); {
	case errors.Is(err, ErrConflict):
		return TokenPair{}, ErrTokenInvalidated // spent already
	case err != nil:
		return TokenPair{}, a.storeErr("spend mfa token", err)
	}
	a.mfa.reset(ctx, a.mfa.byUser, userKey)
	amr := append(append([]string(nil), c.AMR...), method, AMRMultiFactor)
	return a.startSession(ctx, u, amr)
}

// LoginVerified logs in a user whom the caller has authenticated by a
// method of its own, such as a passkey that verified the user (package
// passkey): it runs the BeforeLogin hook, refuses a disabled user with
// [ErrUserDisabled], and issues a token pair whose "amr" is amr. It asks
// for no password and no second factor: the caller vouches for both.
func (a *Authenticator) LoginVerified(ctx context.Context, userID string, amr ...string) (TokenPair, error) {
	u, err := a.store.UserByID(ctx, userID)
	if err != nil {
		return TokenPair{}, a.storeErr("look up user", err)
	}
	if u.Disabled {
		return TokenPair{}, ErrUserDisabled
	}
	if err := before(ctx, a.cfg.hooks.BeforeLogin, event(ctx, u)); err != nil {
		return TokenPair{}, err
	}
	return a.startSession(ctx, u, amr)
}

// ResetMFA is the administrator's recovery for a user who lost every
// second factor: it removes the user's TOTP, recovery codes and passkeys,
// and ends every session and token of the user (as LogoutAll). The user
// then logs in with the password alone. It returns an error wrapping
// [ErrUserNotFound] when there is no such user.
func (a *Authenticator) ResetMFA(ctx context.Context, userID string) error {
	cs, err := a.credentials()
	if err != nil {
		return err
	}
	if _, err := a.store.UserByID(ctx, userID); err != nil {
		return a.storeErr("look up user", err)
	}
	if err := cs.DeleteUserCredentials(ctx, userID); err != nil {
		return a.storeErr("delete credentials", err)
	}
	if err := a.LogoutAll(ctx, userID); err != nil {
		return err
	}
	e := event(ctx, nil)
	e.UserID = userID
	a.report(ctx, slog.LevelInfo, "auth: second factors reset", a.cfg.hooks.MFAReset, e)
	return nil
}

// PruneNonces forgets the records of spent one-time tokens (mfa_tokens,
// passkey ceremonies) that have expired. Run it now and then, as
// [Authenticator.PruneSessions]; it returns how many it removed.
func (a *Authenticator) PruneNonces(ctx context.Context) (int, error) {
	cs, err := a.credentials()
	if err != nil {
		return 0, err
	}
	n, err := cs.DeleteNonces(ctx, a.now())
	if err != nil {
		return n, a.storeErr("delete nonces", err)
	}
	return n, nil
}

// MFATokenUser returns the ID of the user an mfa_token was issued to,
// without spending it, for a plug-in that must prepare the second factor
// (such as a passkey ceremony for that user's passkeys). It returns an
// error wrapping [ErrInvalidToken] for a forged or expired token.
func (a *Authenticator) MFATokenUser(mfaToken string) (string, error) {
	c, err := a.mfa.parse(mfaToken, a.cfg.clock())
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}
