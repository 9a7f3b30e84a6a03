package auth

import (
	"context"
	"errors"
	"net/http"
)

// Revoke ends what token grants, as RFC 7009 asks of a revocation
// endpoint: the session of a refresh token, or an API key. Possession of
// the token is the authorization. It succeeds, doing nothing, for a token
// that is unknown, expired, already revoked, or an access token (which
// expires on its own; end its session with its refresh token). Errors are
// for store failures and, for API keys, the address budget of
// [WithAPIKeyLimit].
func (a *Authenticator) Revoke(ctx context.Context, token string) error {
	if isAPIKey(token) {
		if a.adm.keys == nil {
			return nil
		}
		e, err := a.lookUpKey(ctx, clientOf(ctx).addr, token, a.cfg.clock())
		switch {
		case errors.Is(err, ErrInvalidToken):
			return nil
		case err != nil:
			return err
		}
		k := e.auth.key
		if !k.RevokedAt.IsZero() {
			return nil
		}
		return a.revokeKey(withActor(ctx, k.UserID), &k)
	}
	err := a.Logout(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return nil
	}
	return err
}

// revoke serves POST /auth/revoke (RFC 7009): a form body with token and
// an optional token_type_hint, 200 whatever the token was.
func (h *handler) revoke(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, "token", "token_type_hint")
	if err != nil {
		return grantError{err}
	}
	if err := f.require("token"); err != nil {
		return grantError{err}
	}
	if err := h.a.Revoke(r.Context(), f["token"]); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}
