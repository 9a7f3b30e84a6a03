package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// refreshCookies returns the refresh cookies a response set.
func refreshCookies(t *testing.T, r response) []*http.Cookie {
	t.Helper()
	return cookiesNamed(r, "gatehouse_refresh")
}

// cookiesNamed returns the cookies of the given name that a response set.
func cookiesNamed(r response, name string) []*http.Cookie {
	res := http.Response{Header: r.header}
	var out []*http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func TestCookieMode(t *testing.T) {
	f := newFixture(t, auth.WithRefreshCookie(auth.CookieOptions{Path: "/app/auth"}), auth.WithRefreshTTL(24*time.Hour))
	mux := http.NewServeMux()
	mux.Handle("/app/auth/", http.StripPrefix("/app", f.a.CookieHandler()))
	f.register(t, "lara", "password-1")

	// Login CSRF: another site's form, or a request that says it comes
	// from another site, never gets a refresh cookie.
	form := httptest.NewRequest(http.MethodPost, "/app/auth/login", strings.NewReader("username=lara&password=password-1"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := serve(mux, form); r.status != http.StatusUnsupportedMediaType || len(r.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("form login in cookie mode: %d, cookies %v", r.status, r.header.Values("Set-Cookie"))
	}
	for _, h := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		req := httptest.NewRequest(http.MethodPost, "/app/auth/login", strings.NewReader(`{"username":"lara","password":"password-1"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(h[0], h[1])
		r := serve(mux, req)
		wantError(t, r, http.StatusForbidden, "Cross-origin request refused", "cross_origin_request")
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("cross-origin login (%s) set a cookie", h[0])
		}
	}

	req := httptest.NewRequest(http.MethodPost, "/app/auth/login", strings.NewReader(`{"username":"lara","password":"password-1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r := serve(mux, req)
	if r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "refresh_token") {
		t.Fatalf("cookie mode leaked the refresh token into the body: %s", r.body)
	}
	cookies := refreshCookies(t, r)
	if len(cookies) != 2 {
		t.Fatalf("want the cookie at two paths, got %v", cookies)
	}
	paths := map[string]bool{}
	for _, c := range cookies {
		paths[c.Path] = true
		if c.Name != "gatehouse_refresh" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Value == "" {
			t.Errorf("cookie attributes: %+v", c)
		}
		if c.MaxAge < 24*3600-5 || c.MaxAge > 24*3600 {
			t.Errorf("cookie Max-Age = %d, want the refresh TTL", c.MaxAge)
		}
	}
	if !paths["/app/auth/refresh"] || !paths["/app/auth/logout"] {
		t.Errorf("cookie paths = %v", paths)
	}
	raw := r.header.Values("Set-Cookie")
	for _, v := range raw {
		for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict"} {
			if !strings.Contains(v, attr) {
				t.Errorf("Set-Cookie %q lacks %s", v, attr)
			}
		}
	}

	// Refresh from the cookie alone.
	refresh := func(cookie *http.Cookie, contentType string) response {
		req := httptest.NewRequest(http.MethodPost, "/app/auth/refresh", strings.NewReader("{}"))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		return serve(mux, req)
	}
	r2 := refresh(cookies[0], "application/json")
	if r2.status != http.StatusOK || strings.Contains(string(r2.body), "refresh_token") {
		t.Fatalf("refresh from the cookie: %d %s", r2.status, r2.body)
	}
	rotated := refreshCookies(t, r2)
	if len(rotated) != 2 || rotated[0].Value == cookies[0].Value {
		t.Fatalf("refresh did not rotate the cookie: %v", rotated)
	}
	// A cross-site form cannot send JSON: the same request as a form is refused.
	wantError(t, refresh(rotated[0], "application/x-www-form-urlencoded"), http.StatusUnsupportedMediaType, "", "unsupported_media_type")
	wantProblems(t, refresh(nil, "application/json"), "invalid_request", "body.refresh_token:missing")

	// Logout clears the cookie at both paths and ends the session.
	req = httptest.NewRequest(http.MethodPost, "/app/auth/logout", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(rotated[0])
	r3 := serve(mux, req)
	if r3.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r3.status, r3.body)
	}
	cleared := refreshCookies(t, r3)
	if len(cleared) != 2 || cleared[0].MaxAge >= 0 || cleared[0].Value != "" {
		t.Fatalf("logout did not clear the cookie: %v", cleared)
	}
	if r := refresh(rotated[0], "application/json"); r.status != http.StatusUnauthorized {
		t.Fatalf("refresh after logout: %d", r.status)
	}
	// Logout without any token: already logged out.
	req = httptest.NewRequest(http.MethodPost, "/app/auth/logout", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if r := serve(mux, req); r.status != http.StatusNoContent {
		t.Fatalf("logout without a cookie: %d", r.status)
	}

	// The plain handler is unchanged.
	p := tokensOf(t, loginForm(f.a.Handler(), "lara", "password-1"))
	if p.RefreshToken == "" {
		t.Fatal("Handler() lost the refresh token from the body")
	}
}

func TestCookieOptionsValidated(t *testing.T) {
	for _, o := range []auth.CookieOptions{{Name: "bad name"}, {Path: "no-slash"}, {Name: "a;b"}} {
		if _, err := auth.New(newFixture(t).store, auth.WithSecret(testSecret), auth.WithRefreshCookie(o)); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
}
