package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/auth/internal/dpop"
	"github.com/gatehouse/auth/internal/httpauth"
)

// DPoPMode says whether tokens are bound to a key the client holds, with
// DPoP proofs (RFC 9449). See [WithDPoP].
type DPoPMode int

const (
	// DPoPOff ignores DPoP headers: every token is a bearer token.
	DPoPOff DPoPMode = iota
	// DPoPAllowed binds the tokens of a client that sends a proof at login
	// and issues bearer tokens to the others.
	DPoPAllowed
	// DPoPRequired refuses token requests without a proof, and bearer
	// tokens at protected resources.
	DPoPRequired
)

// String returns "off", "allowed" or "required".
func (m DPoPMode) String() string {
	switch m {
	case DPoPOff:
		return "off"
	case DPoPAllowed:
		return "allowed"
	case DPoPRequired:
		return "required"
	}
	return fmt.Sprintf("DPoPMode(%d)", int(m))
}

// ParseDPoPMode reads "off", "allowed" or "required", as [DPoPMode.String]
// writes them, for a command-line flag.
func ParseDPoPMode(s string) (DPoPMode, error) {
	for _, m := range []DPoPMode{DPoPOff, DPoPAllowed, DPoPRequired} {
		if s == m.String() {
			return m, nil
		}
	}
	return DPoPOff, fmt.Errorf("auth: DPoP mode %q is not off, allowed or required", s)
}

// DPoPReplayCache remembers the DPoP proofs already seen, so that each is
// accepted once (RFC 9449 section 11.1). The default keeps them in memory,
// which is right for one instance; several instances behind a load
// balancer must share one, such as the Redis cache of the redislimit
// module, or a proof captured on its way to one instance could be played
// to another.
//
// Implementations must be safe for concurrent use. Use must be atomic: of
// concurrent calls with one key, exactly one reports fresh. Keys are
// opaque ASCII strings of at most 64 bytes. Errors are for system
// failures only; the request is then answered 503.
type DPoPReplayCache interface {
	// Use records key until expires and reports whether it was fresh:
	// false when the key is recorded already and has not expired.
	Use(ctx context.Context, key string, expires time.Time) (fresh bool, err error)
}

// dpopReplaySize bounds the default, in-memory replay cache: about 100
// bytes a key.
const dpopReplaySize = 100_000

// dpopState is what an Authenticator with DPoP on keeps.
type dpopState struct {
	mode     DPoPMode
	checker  *dpop.Checker
	external *url.URL // nil: the request's own scheme and host
}

// newDPoP builds the DPoP state from the configuration; nil when it is off.
func (a *Authenticator) newDPoP() *dpopState {
	c := &a.cfg
	if c.dpopMode == DPoPOff {
		return nil
	}
	replay := c.dpopReplay
	if replay == nil {
		replay = dpop.NewMemoryReplay(dpopReplaySize, c.clock)
	}
	st := &dpopState{mode: c.dpopMode, checker: &dpop.Checker{
		Past: c.dpopPast, Future: c.dpopFuture, Clock: c.clock, Replay: replay,
	}}
	if c.dpopNonceEvery > 0 {
		st.checker.Nonces = dpop.NewNonces(a.signer.Derive("gatehouse dpop nonces"), c.dpopNonceEvery, c.clock)
	}
	if c.dpopExternal != "" {
		st.external, _ = url.Parse(c.dpopExternal) // checked by validate
	}
	return st
}

// validateDPoP checks the DPoP options.
func (c *config) validateDPoP() error {
	bad := func(format string, args ...any) error { return configErr(ErrInvalidConfig, "auth: "+format, args...) }
	switch {
	case c.dpopMode < DPoPOff || c.dpopMode > DPoPRequired:
		return bad("DPoP mode %d is not DPoPOff, DPoPAllowed or DPoPRequired", int(c.dpopMode))
	case c.dpopPast < time.Second || c.dpopPast > 5*time.Minute:
		return bad("DPoP proof age is %v; it must be between 1 second and 5 minutes", c.dpopPast)
	case c.dpopFuture < 0 || c.dpopFuture > time.Minute:
		return bad("DPoP proof clock skew is %v; it must be between 0 and 60 seconds", c.dpopFuture)
	case c.dpopNonceEvery < 0 || (c.dpopNonceEvery > 0 && (c.dpopNonceEvery < time.Second || c.dpopNonceEvery > time.Hour)):
		return bad("DPoP nonce lifetime is %v; it must be 0 (off) or between 1 second and 1 hour", c.dpopNonceEvery)
	}
	if c.dpopExternal != "" {
		u, err := url.Parse(c.dpopExternal)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return bad("DPoP external URL must be an origin such as https://api.example.com, without path, query or credentials")
		}
	}
	return nil
}

// dpopKey is the context key of a verified proof's key thumbprint.
type dpopKey struct{}

// ContextWithDPoPThumbprint returns a context that tells
// [Authenticator.Login] and [Authenticator.Refresh] that the request came
// with a valid DPoP proof of the key with this RFC 7638 thumbprint (see
// [Authenticator.CheckDPoPProof]): Login binds the new session and the
// access token to it, and Refresh requires it for a bound session. The
// handlers do this themselves; it is for applications that serve their own
// token endpoints.
func ContextWithDPoPThumbprint(ctx context.Context, jkt string) context.Context {
	return context.WithValue(ctx, dpopKey{}, jkt)
}

// dpopThumbprint returns the thumbprint of ctx, "" for none.
func dpopThumbprint(ctx context.Context) string {
	jkt, _ := ctx.Value(dpopKey{}).(string)
	return jkt
}

// CheckDPoPProof checks the DPoP proof of r (RFC 9449 section 4.3) and
// returns its key's thumbprint. accessToken is the token the proof must
// carry the hash of ("ath"), "" at a token endpoint. The proof must name
// r's method and URI (see [WithDPoPExternalURL]), be recent (see
// [WithDPoPProofWindow]), carry the current nonce when nonces are on
// ([WithDPoPNonces]), and not have been seen before.
//
// It returns "" and no error when r has no proof and DPoP is allowed but
// not required; an error wrapping [ErrInvalidDPoPProof] for a bad or
// missing proof (matching [ErrUseDPoPNonce] when only the nonce is
// missing or stale); [ErrUnavailable] when the replay cache failed; and
// "" with no error whenever DPoP is off.
func (a *Authenticator) CheckDPoPProof(r *http.Request, accessToken string) (string, error) {
	d := a.dpop
	if d == nil {
		return "", nil
	}
	proof, ok := dpop.ProofHeader(r)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: more than one DPoP header", ErrInvalidDPoPProof)
	case proof == "" && d.mode == DPoPRequired:
		return "", ErrDPoPRequired
	case proof == "":
		return "", nil
	}
	p, err := d.checker.Check(r.Context(), proof, r.Method, dpop.RequestURI(r, d.external), accessToken, "")
	if err != nil {
		return "", a.dpopErr(err)
	}
	return p.JKT, nil
}

// dpopContext returns the context of a token request: r's, with the
// thumbprint of its proof when it has a valid one.
func (a *Authenticator) dpopContext(r *http.Request) (context.Context, error) {
	jkt, err := a.CheckDPoPProof(r, "")
	if err != nil || jkt == "" {
		return r.Context(), err
	}
	return ContextWithDPoPThumbprint(r.Context(), jkt), nil
}

// dpopErr maps an error of the proof checker to the package's errors.
func (a *Authenticator) dpopErr(err error) error {
	switch {
	case errors.Is(err, dpop.ErrNonce):
		return &dpopNonceError{nonce: a.dpop.checker.Nonces.Current()}
	case errors.Is(err, dpop.ErrInvalid):
		return joinErr(ErrInvalidDPoPProof, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// dpopNonceError asks the client to retry with the server's nonce, which
// the error response carries in a DPoP-Nonce header.
type dpopNonceError struct{ nonce string }

func (e *dpopNonceError) Error() string { return ErrUseDPoPNonce.Error() }
func (e *dpopNonceError) Unwrap() error { return ErrUseDPoPNonce }

// dpopChallenge marks an error at a protected resource when DPoP is on:
// its 401 answer carries a DPoP challenge (RFC 9449 section 7.1).
type dpopChallenge struct {
	err error
	// required: bearer tokens are refused; usedDPoP: the request
	// presented its token in the DPoP scheme.
	required, usedDPoP bool
}

func (e *dpopChallenge) Error() string { return e.err.Error() }
func (e *dpopChallenge) Unwrap() error { return e.err }

// dpopUserContext is userContext when DPoP is on: a token in the DPoP
// scheme needs a proof of the key it is bound to, with its hash; a bound
// token in the Bearer scheme is refused, and so is any bearer token when
// DPoP is required.
func (a *Authenticator) dpopUserContext(r *http.Request) (*userContext, error) {
	d := a.dpop
	token, usedDPoP, err := httpauth.AccessToken(r)
	wrap := func(err error) error {
		return &dpopChallenge{err: err, required: d.mode == DPoPRequired, usedDPoP: usedDPoP}
	}
	switch {
	case errors.Is(err, httpauth.ErrNoToken):
		return nil, wrap(ErrNoToken)
	case err != nil:
		return nil, wrap(ErrInvalidToken)
	}
	if !usedDPoP && a.adm.keys != nil && isAPIKey(token) {
		// API keys are a credential of their own, not access tokens: DPoP
		// does not bind them, in any mode (docs/dpop.md).
		uc, err := a.verifyAPIKey(r.Context(), r, token)
		if err != nil {
			return nil, wrap(err)
		}
		return uc, nil
	}
	uc, err := a.verifyAccess(r.Context(), token)
	if err != nil {
		return nil, wrap(err)
	}
	jkt := uc.v.jkt
	switch {
	case !usedDPoP && jkt != "":
		return nil, wrap(ErrDPoPBoundToken)
	case !usedDPoP && d.mode == DPoPRequired:
		return nil, wrap(ErrDPoPRequired)
	case !usedDPoP:
		return uc, nil
	case jkt == "":
		// RFC 9449 section 7.1: the DPoP scheme is for bound tokens.
		return nil, wrap(fmt.Errorf("%w: a bearer token in the DPoP scheme", ErrInvalidToken))
	}
	proof, ok := dpop.ProofHeader(r)
	if !ok || proof == "" {
		return nil, wrap(fmt.Errorf("%w: no DPoP header, or several", ErrInvalidDPoPProof))
	}
	if _, err := d.checker.Check(r.Context(), proof, r.Method, dpop.RequestURI(r, d.external), token, jkt); err != nil {
		return nil, wrap(a.dpopErr(err))
	}
	return uc, nil
}

// dpopChallengeFor is the WWW-Authenticate value of a 401 answer p to a
// request at a protected resource when DPoP is on.
func dpopChallengeFor(c *dpopChallenge, p problem) string {
	algs := `algs="` + dpop.AlgsParam + `"`
	switch {
	case p.code == codeInvalidDPoPProof || p.code == codeUseDPoPNonce:
		return `DPoP error="` + p.code + `", ` + algs
	case errors.Is(c.err, ErrNoToken) && c.required:
		return "DPoP " + algs
	case errors.Is(c.err, ErrNoToken):
		return "Bearer, DPoP " + algs
	case c.required || c.usedDPoP || errors.Is(c.err, ErrDPoPBoundToken):
		return `DPoP error="` + p.code + `", ` + algs
	}
	return p.challenge
}

// dpopNonce sets the DPoP-Nonce header of a token response when server
// nonces are on, so that the client's next proof can carry it.
func (a *Authenticator) dpopNonce(w http.ResponseWriter) {
	if a.dpop != nil && a.dpop.checker.Nonces != nil {
		w.Header().Set("DPoP-Nonce", a.dpop.checker.Nonces.Current())
	}
}

// tokenType is the "token_type" of a pair whose access token is bound to
// jkt, or not when jkt is "".
func tokenType(jkt string) string {
	if jkt != "" {
		return "DPoP"
	}
	return "bearer"
}

// checkBinding refuses a refresh whose proof is missing or of another key
// than the one the session (or, without sessions, the refresh token) is
// bound to.
func checkBinding(bound, jkt string) error {
	if bound != "" && jkt != bound {
		return ErrDPoPKeyMismatch
	}
	return nil
}
