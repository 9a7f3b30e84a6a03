package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app
// supports. Codes of the step before and after the current one are
// accepted too (clock skew), each at most once.
const (
	totpPeriod     = 30 // seconds
	totpDigits     = otp.DigitsSix
	totpSkew       = 1
	totpSecretSize = 20 // bytes: 160 bits, as RFC 4226 recommends
)

// TOTPEnrollment is what [Authenticator.EnrollTOTP] returns: the secret to
// show the user once, as text and as an otpauth:// URI for a QR code.
type TOTPEnrollment struct {
	// Secret is the shared secret in base32, without padding.
	Secret string `json:"secret"`
	// URI is the otpauth:// URI (Key Uri Format) that authenticator apps
	// read from a QR code.
	URI string `json:"otpauth_uri"`
}

// credentials returns the store's CredentialStore, or ErrMFAUnsupported.
func (a *Authenticator) credentials() (CredentialStore, error) {
	if a.creds == nil {
		return nil, ErrMFAUnsupported
	}
	return a.creds, nil
}

// EnrollTOTP starts TOTP enrolment for user after checking the password:
// it makes a new secret and stores it sealed, not yet active. The user
// adds it to an authenticator app and confirms with a code
// ([Authenticator.ConfirmTOTP]). Starting again replaces an unconfirmed
// secret; while TOTP is on it returns [ErrCredentialExists]. A wrong
// password counts against the user's login budget and returns
// [ErrIncorrectPassword].
func (a *Authenticator) EnrollTOTP(ctx context.Context, user *User, password string) (TOTPEnrollment, error) {
	cs, err := a.credentials()
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if _, err := a.checkCurrentPassword(ctx, user, password); err != nil {
		return TOTPEnrollment{}, err
	}
	switch t, err := cs.UserTOTP(ctx, user.ID); {
	case err == nil && t.Confirmed:
		return TOTPEnrollment{}, ErrCredentialExists
	case err != nil && !errors.Is(err, ErrCredentialNotFound):
		return TOTPEnrollment{}, a.storeErr("look up TOTP", err)
	}
	secret := make([]byte, totpSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return TOTPEnrollment{}, fmt.Errorf("auth: read random bytes: %w", err)
	}
	sealed, err := a.box.seal(user.ID, secret)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if err := cs.SetTOTP(ctx, user.ID, &TOTP{Secret: sealed, CreatedAt: a.now()}); err != nil {
		return TOTPEnrollment{}, a.storeErr("store TOTP", err)
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	return TOTPEnrollment{Secret: enc, URI: a.otpauthURI(user.Username, enc)}, nil
}

// otpauthURI builds the Key Uri Format URI for an authenticator app.
func (a *Authenticator) otpauthURI(account, secret string) string {
	issuer := a.cfg.mfa.totpIssuer
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}

// ConfirmTOTP turns TOTP on for user when code is valid for the secret of
// [Authenticator.EnrollTOTP], and returns ten new recovery codes, which
// replace any earlier ones. Show them once: only their hashes are kept.
// It returns [ErrCredentialNotFound] without an enrolment in progress,
// [ErrCredentialExists] when TOTP is on already and [ErrInvalidCode] for
// a wrong code, which counts against the user's second-factor budget.
func (a *Authenticator) ConfirmTOTP(ctx context.Context, user *User, code string) ([]string, error) {
	cs, err := a.credentials()
	if err != nil {
		return nil, err
	}
	t, err := cs.UserTOTP(ctx, user.ID)
	switch {
	case err != nil:
		return nil, a.storeErr("look up TOTP", err)
	case t.Confirmed:
		return nil, ErrCredentialExists
	}
	key := a.mfa.userKey(user.ID)
	if err := a.mfa.checkUser(ctx, key); err != nil {
		return nil, err
	}
	step, ok, err := a.matchTOTP(user.ID, t, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		a.mfa.charge(ctx, a.mfa.byUser, key)
		return nil, ErrInvalidCode
	}
	// Confirm first: codes written before a confirmation that loses a race
	// would replace the user's codes with ones nobody is shown.
	if err := cs.ConfirmTOTP(ctx, user.ID, t.Secret, step); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, ErrInvalidCode // enrolled again, or confirmed, meanwhile
		}
		return nil, a.storeErr("confirm TOTP", err)
	}
	codes, err := a.newRecoveryCodes(ctx, cs, user.ID)
	if err != nil {
		return nil, err // TOTP is on; POST /auth/mfa/recovery-codes makes codes
	}
	a.mfa.reset(ctx, a.mfa.byUser, key)
	a.report(ctx, slog.LevelInfo, "auth: TOTP enabled", a.cfg.hooks.MFAEnabled, event(ctx, user))
	return codes, nil
}

// DisableTOTP turns TOTP off for user after checking the password and a
// second factor (see [Authenticator.StepUp]; ctx must carry the user's
// authentication, as the middleware sets it). The recovery codes go too
// when the user has no passkey left.
func (a *Authenticator) DisableTOTP(ctx context.Context, user *User, password, code string) error {
	cs, err := a.credentials()
	if err != nil {
		return err
	}
	if _, err := a.checkCurrentPassword(ctx, user, password); err != nil {
		return err
	}
	// Whether there is a TOTP to turn off comes before the step-up, which
	// may spend a recovery code that a refusal after it would waste.
	if _, err := cs.UserTOTP(ctx, user.ID); err != nil {
		return a.storeErr("look up TOTP", err)
	}
	if err := a.StepUp(ctx, code); err != nil {
		return err
	}
	if err := cs.DeleteTOTP(ctx, user.ID); err != nil {
		return a.storeErr("delete TOTP", err)
	}
	keys, err := cs.UserPasskeys(ctx, user.ID)
	if err != nil {
		return a.storeErr("list passkeys", err)
	}
	if len(keys) == 0 {
		if err := cs.SetRecoveryCodes(ctx, user.ID, nil); err != nil {
			return a.storeErr("delete recovery codes", err)
		}
	}
	a.report(ctx, slog.LevelInfo, "auth: TOTP disabled", a.cfg.hooks.MFADisabled, event(ctx, user))
	return nil
}

// matchTOTP returns the time step whose code equals code, among the
// current step and one either side, that is newer than the last step
// used. The comparison is constant-time.
func (a *Authenticator) matchTOTP(userID string, t *TOTP, code string) (step int64, ok bool, err error) {
	code = strings.TrimSpace(code)
	if len(code) != totpDigits.Length() {
		return 0, false, nil
	}
	secret, err := a.box.open(userID, t.Secret)
	if err != nil {
		a.failureLog().LogAttrs(context.Background(), slog.LevelError, "auth: TOTP secret does not open; was the encryption key changed?",
			slog.String("user_id", userID))
		return 0, false, fmt.Errorf("auth: TOTP secret: %w", err)
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	opts := hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	now := a.cfg.clock().Unix() / totpPeriod
	for s := now - totpSkew; s <= now+totpSkew; s++ {
		if s <= t.LastStep || s < 0 {
			continue
		}
		if good, _ := hotp.ValidateCustom(code, uint64(s), enc, opts); good {
			return s, true, nil
		}
	}
	return 0, false, nil
}

// useTOTP checks code against the user's confirmed TOTP and, when it
// matches, marks its step used, so that it never works again. ok is false
// for a wrong or reused code and when TOTP is off.
func (a *Authenticator) useTOTP(ctx context.Context, cs CredentialStore, userID, code string) (ok bool, err error) {
	t, err := cs.UserTOTP(ctx, userID)
	switch {
	case errors.Is(err, ErrCredentialNotFound):
		return false, nil
	case err != nil:
		return false, a.storeErr("look up TOTP", err)
	case !t.Confirmed:
		return false, nil
	}
	step, ok, err := a.matchTOTP(userID, t, code)
	if err != nil || !ok {
		return false, err
	}
	switch err := cs.UseTOTPStep(ctx, userID, step); {
	case errors.Is(err, ErrConflict), errors.Is(err, ErrCredentialNotFound):
		return false, nil // used meanwhile
	case err != nil:
		return false, a.storeErr("use TOTP step", err)
	}
	return true, nil
}

// checkCurrentPassword checks a user's password for a sensitive change,
// under the login throttle as ChangePassword does, and returns the user as
// the store has it now.
func (a *Authenticator) checkCurrentPassword(ctx context.Context, user *User, password string) (*User, error) {
	at, err := a.throttle.admit(ctx, user.Username)
	if err != nil {
		return nil, err
	}
	u, err := a.store.UserByID(ctx, user.ID)
	if err != nil {
		return nil, a.storeErr("look up user", err)
	}
	ok, _, err := a.verifyAttempt(ctx, at, password, u.PasswordHash)
	switch {
	case isTransient(err), errors.Is(err, ErrThrottled):
		return nil, err
	case err != nil || !ok:
		return nil, ErrIncorrectPassword
	}
	at.succeeded(ctx)
	return u, nil
}
