package auth

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// Authentication describes how the user of a request's access token
// logged in: the methods (RFC 8176 "amr" values such as "pwd", "otp",
// "hwk", "swk", "mfa") and the time of the login ("auth_time"). A refresh
// keeps both: they describe the login, not the token.
type Authentication struct {
	// Methods are the "amr" values of the token, in order.
	Methods []string
	// Time is when the user logged in; zero for a token that does not say
	// (issued before Gatehouse carried "auth_time").
	Time time.Time
}

// MultiFactor reports whether the login used more than one factor: a
// password and a code or passkey, or a passkey that verified the user.
func (a Authentication) MultiFactor() bool { return slices.Contains(a.Methods, AMRMultiFactor) }

// AuthenticationFromContext returns how the user of the request logged in,
// the companion of [UserFromContext]. ok is false without an authenticated
// user. The Methods slice is the caller's own copy.
func AuthenticationFromContext(ctx context.Context) (auth Authentication, ok bool) {
	v, ok := ctx.Value(userKey{}).(*authenticated)
	if !ok || v == nil {
		return Authentication{}, false
	}
	return Authentication{Methods: slices.Clone(v.amr), Time: v.authTime}, true
}

// RequireMFA is a middleware for routes behind [Authenticator.Middleware]
// that only a multi-factor login may use: a request whose token came from
// a password alone is answered 403 with the error code "mfa_required",
// which tells the client to log in again with its second factor.
func (a *Authenticator) RequireMFA(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, ok := AuthenticationFromContext(r.Context())
		switch {
		case !ok:
			a.cfg.errorHandler(w, r, ErrNoToken)
		case !auth.MultiFactor():
			a.cfg.errorHandler(w, r, ErrMFARequired)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// RequireRecentAuth returns a middleware for routes behind
// [Authenticator.Middleware] that need a login no older than maxAge: an
// older one (or a token that does not say when) is answered 403 with the
// error code "reauthentication_required", which tells the client to log in
// again. Refreshing does not make a login recent.
func (a *Authenticator) RequireRecentAuth(maxAge time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth, ok := AuthenticationFromContext(r.Context())
			switch {
			case !ok:
				a.cfg.errorHandler(w, r, ErrNoToken)
			case auth.Time.IsZero() || a.cfg.clock().Sub(auth.Time) > maxAge:
				a.cfg.errorHandler(w, r, ErrReauthenticationRequired)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// StepUp checks that the user of ctx (as the middleware sets it) has shown
// a second factor for a sensitive action. It returns nil when the user has
// none; when code is a valid TOTP or unused recovery code (which it
// spends); or when the request's token comes from a multi-factor login
// within [WithStepUpWindow]. Otherwise it returns [ErrMFARequired] (no
// code given) or [ErrInvalidCode], and a wrong code counts against the
// user's second-factor budget. The handlers require it for changing the
// password, disabling TOTP, regenerating recovery codes and deleting a
// passkey.
func (a *Authenticator) StepUp(ctx context.Context, code string) error {
	v, ok := ctx.Value(userKey{}).(*authenticated)
	if !ok || v == nil {
		return ErrNoToken
	}
	has, err := a.hasSecondFactor(ctx, v.shared.ID)
	if err != nil || !has {
		return err
	}
	if code == "" {
		auth := Authentication{Methods: v.amr, Time: v.authTime}
		if auth.MultiFactor() && !auth.Time.IsZero() && a.cfg.clock().Sub(auth.Time) <= a.cfg.mfa.stepUpWindow {
			return nil
		}
		return ErrMFARequired
	}
	key := a.mfa.userKey(v.shared.ID)
	if err := a.mfa.checkUser(ctx, key); err != nil {
		return err
	}
	ok, err = a.useTOTP(ctx, a.creds, v.shared.ID, code)
	if err == nil && !ok {
		ok, err = a.useRecoveryCode(ctx, a.creds, v.shared.ID, code)
	}
	if err != nil {
		return err
	}
	if !ok {
		a.mfa.charge(ctx, a.mfa.byUser, key)
		return ErrInvalidCode
	}
	return nil
}

// contextWith returns ctx carrying the authentication v, as the middleware
// would set it.
func (a *Authenticator) contextWith(ctx context.Context, v *authenticated) context.Context {
	return v.into(ctx)
}
