package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/auth/internal/httpauth"
)

// Middleware requires a valid access token in the Authorization header. It
// loads the token's user, puts it in the request context for
// [UserFromContext], and calls next. Requests without a valid token are
// answered by the error handler (401, or 403 for a disabled user, or 503
// when the store is down) and never reach next: the middleware fails closed.
//
// Its signature fits net/http, chi and any router that takes
// func(http.Handler) http.Handler.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return a.middleware(next, false)
}

// OptionalMiddleware is like [Authenticator.Middleware] for routes that serve
// anonymous and signed-in users alike: a request without an Authorization
// header reaches next with no user in its context. A request that does carry
// a token must carry a valid one; a bad token is still rejected, so a client
// never silently loses its identity.
func (a *Authenticator) OptionalMiddleware(next http.Handler) http.Handler {
	return a.middleware(next, true)
}

func (a *Authenticator) middleware(next http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uc, err := a.userContext(r)
		if err != nil {
			if optional && errors.Is(err, ErrNoToken) && len(r.Header.Values("Authorization")) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			a.logFailure(r, err)
			a.cfg.errorHandler(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(uc))
	})
}

// logFailure logs errors that point at a fault on the server side; client
// mistakes are not worth a log line.
func (a *Authenticator) logFailure(r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away: nothing failed on our side
	}
	if p := problemFor(err); p.status >= 500 && p.status != http.StatusNotImplemented {
		a.failureLog().LogAttrs(r.Context(), slog.LevelError, "auth: request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", p.status), slog.String("error", err.Error()))
	}
}

// bearerToken extracts the token from the one Authorization header (see
// [httpauth.BearerToken]). A missing header or another scheme is ErrNoToken;
// several headers, or a token that is empty, too long or contains spaces, is
// ErrInvalidToken.
func bearerToken(r *http.Request) (string, error) {
	token, err := httpauth.BearerToken(r)
	switch {
	case errors.Is(err, httpauth.ErrNoToken):
		return "", ErrNoToken
	case err != nil:
		return "", ErrInvalidToken
	}
	return token, nil
}

// authenticateRequest returns the user of the request's bearer token and
// the token's session ID. It takes access tokens only: an API key may not
// act on the account itself (see apikeys.go).
func (a *Authenticator) authenticateRequest(r *http.Request) (*authenticated, error) {
	uc, err := a.accountContext(r)
	if err != nil {
		return nil, err
	}
	return &uc.v, nil
}

// accountContext is userContext for the endpoints that act on the account
// (plug-ins' bearer endpoints too): an API key is refused.
func (a *Authenticator) accountContext(r *http.Request) (*userContext, error) {
	if tok, err := bearerToken(r); err == nil && a.adm.keys != nil && isAPIKey(tok) {
		return nil, ErrAPIKeyNotAllowed
	}
	return a.userContext(r)
}

// userContext returns the request's context with the user of its bearer
// token.
func (a *Authenticator) userContext(r *http.Request) (*userContext, error) {
	if a.dpop != nil {
		return a.dpopUserContext(r)
	}
	token, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	if a.adm.keys != nil && isAPIKey(token) {
		return a.verifyAPIKey(r.Context(), r, token)
	}
	return a.verifyAccess(r.Context(), token)
}
