package verifier

import "errors"

// Sentinel errors. Every error returned by this package wraps one of these
// or is a context error; test for them with [errors.Is].
var (
	// ErrNoToken is returned by the middleware when a request carries no
	// bearer token.
	ErrNoToken = errors.New("verifier: no bearer token")

	// ErrInvalidToken is returned for any token that fails verification:
	// malformed, unknown or missing key ID, algorithm other than its key's,
	// bad signature, not an access token, expired, issued in the future,
	// wrong issuer or audience, or a payload that reads two ways (a key
	// given twice, a claim given again in another case such as "SUB") or
	// whose "exp", "iat" or "nbf" is not a JSON number.
	ErrInvalidToken = errors.New("verifier: invalid token")

	// ErrTokenExpired is returned when the only problem with a token is
	// that it has expired. It matches [ErrInvalidToken].
	ErrTokenExpired error = expiredError{}

	// ErrKeysUnavailable is returned when the JWKS could not be fetched and
	// no cached keys are usable. The middleware answers 503.
	ErrKeysUnavailable = errors.New("verifier: keys unavailable")

	// ErrInvalidKey is returned by [New] and [KeysFromJWKS] for a key that
	// cannot be used safely (wrong curve, RSA under 2048 bits, empty or
	// repeated key ID, private material) or a malformed key set.
	ErrInvalidKey = errors.New("verifier: invalid key")

	// ErrInvalidDPoPProof is returned by the middleware, with [WithDPoP],
	// for a request whose DPoP proof is missing, malformed, forged, for
	// another method, URI or token, too old or from the future, replayed,
	// or made with another key than the token is bound to. It answers 401
	// with a DPoP challenge.
	ErrInvalidDPoPProof = errors.New("verifier: invalid DPoP proof")

	// ErrDPoPBoundToken is returned by the middleware for a DPoP-bound
	// token sent as a bearer token, or sent at all without [WithDPoP]. It
	// matches [ErrInvalidToken].
	ErrDPoPBoundToken error = boundError{}

	// ErrTokenInactive is returned, with [WithIntrospection], for a token
	// that verifies but that Gatehouse no longer considers active. It
	// matches [ErrInvalidToken].
	ErrTokenInactive error = inactiveError{}

	// ErrIntrospectionUnavailable is returned, with [WithIntrospection],
	// when Gatehouse's introspection endpoint could not answer. The
	// middleware answers 503.
	ErrIntrospectionUnavailable = errors.New("verifier: introspection unavailable")
)

// boundError is ErrDPoPBoundToken: its own message, and a match for
// ErrInvalidToken.
type boundError struct{}

func (boundError) Error() string        { return "verifier: DPoP-bound token without its proof" }
func (boundError) Is(target error) bool { return target == ErrInvalidToken }

// inactiveError is ErrTokenInactive: a match for ErrInvalidToken.
type inactiveError struct{}

func (inactiveError) Error() string { return "verifier: token no longer active" }
func (inactiveError) Unwrap() error { return ErrInvalidToken }

// expiredError is ErrTokenExpired: its own one-line message, and a match
// for ErrInvalidToken.
type expiredError struct{}

func (expiredError) Error() string { return "verifier: token expired" }
func (expiredError) Unwrap() error { return ErrInvalidToken }
