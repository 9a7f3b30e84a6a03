package verifier

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse/auth/internal/httpauth"
)

// Middleware requires a valid access token in the Authorization header. It
// puts the verified claims in the request context for [ClaimsFromContext]
// and calls next. Requests without a valid token are answered by the error
// handler (401, or 503 when no keys could be had) and never reach next.
//
// Its signature fits net/http, chi and any router that takes
// func(http.Handler) http.Handler.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return v.middleware(next, false)
}

// OptionalMiddleware is like [Verifier.Middleware] for routes that serve
// anonymous and signed-in users alike: a request without an Authorization
// header reaches next with no claims in its context. A request that carries
// a token must carry a valid one.
func (v *Verifier) OptionalMiddleware(next http.Handler) http.Handler {
	return v.middleware(next, true)
}

func (v *Verifier) middleware(next http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if optional && len(r.Header.Values("Authorization")) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		c, err := v.verifyRequest(r)
		if err != nil {
			v.cfg.errorHandler(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// claimsKey is the context key for the verified claims. Unexported, so only
// this package can set it.
type claimsKey struct{}

// ClaimsFromContext returns the claims that [Verifier.Middleware] or
// [Verifier.OptionalMiddleware] verified for this request. ok is false when
// there are none. It never panics.
func ClaimsFromContext(ctx context.Context) (c *Claims, ok bool) {
	c, ok = ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// WriteError writes err as a JSON error response in the shape Gatehouse
// uses:
//
//	{"detail": "Could not validate credentials", "error": "invalid_token"}
//
// with WWW-Authenticate on 401 (RFC 6750) and Retry-After on 503. The
// error's own text is never written. It is the default for
// [WithErrorHandler].
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	var dc *dpopChallenge
	dpopErr := errors.As(err, &dc)
	challenge := func(code, bearer string) string {
		if dpopErr {
			if c := dc.challenge(code); c != "" {
				return c
			}
		}
		return bearer
	}
	switch {
	case errors.Is(err, ErrNoToken):
		httpauth.WriteError(w, http.StatusUnauthorized, httpauth.CodeInvalidRequest, httpauth.DetailNotAuthenticated, challenge("", httpauth.ChallengeBearer))
	case errors.Is(err, ErrInvalidDPoPProof):
		httpauth.WriteError(w, http.StatusUnauthorized, "invalid_dpop_proof", "Invalid DPoP proof", challenge("invalid_dpop_proof", `DPoP error="invalid_dpop_proof"`))
	case errors.Is(err, ErrInvalidToken):
		httpauth.WriteError(w, http.StatusUnauthorized, httpauth.CodeInvalidToken, httpauth.DetailInvalidCredentials, challenge(httpauth.CodeInvalidToken, httpauth.ChallengeInvalidToken))
	case errors.Is(err, ErrKeysUnavailable), errors.Is(err, ErrIntrospectionUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		httpauth.WriteError(w, http.StatusServiceUnavailable, httpauth.CodeTemporarilyUnavailable, httpauth.DetailTemporarilyUnavailable, "")
	default:
		httpauth.WriteError(w, http.StatusInternalServerError, httpauth.CodeServerError, httpauth.DetailServerError, "")
	}
}
