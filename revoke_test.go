package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse/auth"
)

func TestRevoke(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	u := af.register(t, "quin", "password-1")
	pair := af.login(t, "quin", "password-1")
	_, key, err := af.a.CreateAPIKey(ctx, u.ID, "k", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	revoke := func(tok, hint string) response {
		v := url.Values{"token": {tok}}
		if hint != "" {
			v.Set("token_type_hint", hint)
		}
		return do(af.h, http.MethodPost, "/auth/revoke", ctForm, v.Encode())
	}
	for _, c := range []struct{ tok, hint string }{
		{pair.RefreshToken, "refresh_token"},
		{pair.RefreshToken, ""}, // again: still 200
		{key, "access_token"},   // a wrong hint is only a hint
		{"garbage", ""},
		{pair.AccessToken, ""},
		{"gh_" + "x", ""},
	} {
		if r := revoke(c.tok, c.hint); r.status != http.StatusOK || len(r.body) != 0 {
			t.Errorf("revoke %.12s: %d %s, want 200", c.tok, r.status, r.body)
		}
	}
	if _, err := af.a.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrTokenInvalidated) {
		t.Errorf("Refresh after revocation = %v", err)
	}
	if r := do(scopeEcho(af.a), http.MethodGet, "/x", "", "", bearer(key)...); r.status != http.StatusUnauthorized {
		t.Errorf("the revoked key: %d", r.status)
	}
	if r := do(af.h, http.MethodPost, "/auth/revoke", ctForm, ""); r.status != http.StatusUnprocessableEntity {
		t.Errorf("no token: %d", r.status)
	}
	if r := do(af.h, http.MethodPost, "/auth/revoke", ctJSON, `{"token":"x"}`); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON: %d", r.status)
	}
}
