package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestIntrospect(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	_, caller, err := af.a.CreateAPIKey(ctx, af.root.ID, "resource server", []string{"introspect"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, noScope, err := af.a.CreateAPIKey(ctx, af.root.ID, "other", []string{"repo:read"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	u := af.register(t, "pia", "password-1")
	pair := af.login(t, "pia", "password-1")
	k, key, err := af.a.CreateAPIKey(ctx, u.ID, "pia's", []string{"b", "a"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(tok string) map[string]any {
		t.Helper()
		r := do(af.h, http.MethodPost, "/auth/introspect", ctForm, url.Values{"token": {tok}}.Encode(), bearer(caller)...)
		if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("introspect: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	if m := ask(pair.AccessToken); m["active"] != true || m["sub"] != u.ID || m["username"] != "pia" ||
		m["token_type"] != "access_token" || m["sid"] == nil || m["exp"] == nil {
		t.Errorf("access token: %v", m)
	}
	if m := ask(pair.RefreshToken); m["active"] != true || m["token_type"] != "refresh_token" {
		t.Errorf("refresh token: %v", m)
	}
	if m := ask(key); m["active"] != true || m["token_type"] != "api_key" || m["scope"] != "a b" || m["jti"] != k.ID {
		t.Errorf("API key: %v", m)
	}
	inactive := func(what, tok string) {
		t.Helper()
		if m := ask(tok); len(m) != 1 || m["active"] != false {
			t.Errorf("%s: %v, want {active: false} alone", what, m)
		}
	}
	inactive("garbage", "garbage")
	inactive("made-up key", "gh_"+k.ID)
	if err := af.a.RevokeAPIKey(ctx, u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	inactive("revoked key", key)
	next, err := af.a.Refresh(ctx, pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	inactive("rotated refresh token", pair.RefreshToken)
	if err := af.a.Logout(ctx, next.RefreshToken); err != nil {
		t.Fatal(err)
	}
	inactive("logged-out refresh token", next.RefreshToken)
	inactive("access token of an ended session", next.AccessToken)
	later := af.login(t, "pia", "password-1")
	af.clock.Advance(31 * time.Minute)
	inactive("expired access token", later.AccessToken)

	form := url.Values{"token": {later.RefreshToken}}.Encode()
	if r := do(af.h, http.MethodPost, "/auth/introspect", ctForm, form); r.status != http.StatusUnauthorized {
		t.Errorf("without a caller: %d", r.status)
	}
	for _, tok := range []string{noScope, later.AccessToken} {
		wantError(t, do(af.h, http.MethodPost, "/auth/introspect", ctForm, form, bearer(tok)...), http.StatusForbidden, "Insufficient scope", "insufficient_scope")
	}
	if r := do(af.h, http.MethodPost, "/auth/introspect", ctForm, "", bearer(caller)...); r.status != http.StatusUnprocessableEntity {
		t.Errorf("no token field: %d", r.status)
	}
	if r := do(af.h, http.MethodPost, "/auth/introspect", ctJSON, `{"token":"x"}`, bearer(caller)...); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: %d", r.status)
	}
}
