package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
)

func FuzzLoginForm(f *testing.F) {
	f.Add("username=alice&password=password-1")
	f.Add("grant_type=refresh_token&refresh_token=x.y.z")
	f.Add("username=%ff&password=%00")
	f.Add("a=1&a=2;&&&=")
	a := fuzzAuthenticator(f)
	h := a.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK && !strings.Contains(body, "password-1") {
			t.Fatalf("granted tokens for %q", body)
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

// FuzzHandler feeds arbitrary requests to the whole handler. Properties: no
// panic, no 5xx, every response is JSON, and nothing is granted without
// credentials (no 2xx on a bearer endpoint without a valid token).
func FuzzHandler(f *testing.F) {
	a := fuzzAuthenticator(f)
	pair, err := a.Login(context.Background(), "fuzzer", "password-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("POST", "/auth/register", "application/json", "", `{"username":"someone","password":"password-1"}`)
	f.Add("POST", "/auth/login", "application/x-www-form-urlencoded", "", "username=fuzzer&password=password-1")
	f.Add("POST", "/auth/refresh", "application/json", "", `{"refresh_token":"`+pair.RefreshToken+`"}`)
	f.Add("GET", "/auth/me", "", "Bearer "+pair.AccessToken, "")
	f.Add("POST", "/auth/change-password", "application/json", "Bearer "+pair.AccessToken, `{"current_password":"x","new_password":"yyyyyyyy"}`)
	f.Add("GET", "/auth/me", "", "Bearer "+pair.RefreshToken, "")
	f.Add("PATCH", "/auth/x", "text/plain", "Basic abc", "\x00")
	f.Fuzz(func(t *testing.T, method, path, contentType, authz, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t?#%") || len(path) > 200 {
			return
		}
		if strings.ContainsAny(method+contentType+authz, "\r\n\x00") || method == "" || strings.ContainsAny(method, " ()<>@,;:\\\"/[]?={}\t") {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = path
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusNoContent && rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, rec.Header().Get("Content-Type"))
		}
		bearerOK := strings.HasSuffix(authz, pair.AccessToken) && len(authz) <= len("Bearer  ")+len(pair.AccessToken)
		if rec.Code < 300 && (path == "/auth/me" || path == "/auth/change-password") && !bearerOK {
			t.Fatalf("%s %s with Authorization %q succeeded", method, path, authz)
		}
	})
}

func fuzzAuthenticator(f *testing.F) *auth.Authenticator {
	f.Helper()
	fx := newFixture(f)
	fx.register(f, "fuzzer", "password-1")
	return fx.a
}
