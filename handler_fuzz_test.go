package auth_test

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

// The handler fuzz targets share these properties: no panic, no 5xx but a
// deliberate 503 "Server busy", every response JSON, and nothing granted
// without credentials: no tokens from /auth/login or /auth/refresh unless
// the body held the right password or a refresh token that was issued, no
// 2xx from a bearer endpoint without the access token that was issued.

// fuzzTarget is an Authenticator with one user, fuzzer / password-1, a
// login budget a fuzzer cannot spend, and X-Forwarded-For trusted from
// httptest's peer (192.0.2.1).
type fuzzTarget struct {
	h    http.Handler
	pair auth.TokenPair

	mu        sync.Mutex
	passwords []string // every password the user has had
}

const fuzzPassword = "password-1"

func newFuzzTarget(f *testing.F) *fuzzTarget {
	f.Helper()
	fx := newFixture(f,
		auth.WithLoginLimits(auth.RateLimit{Burst: 1 << 20, Every: time.Nanosecond}, auth.RateLimit{Burst: 1 << 20, Every: time.Nanosecond}),
		auth.WithTrustedProxy("X-Forwarded-For", netip.MustParsePrefix("192.0.2.0/24")))
	fx.register(f, "fuzzer", fuzzPassword)
	return &fuzzTarget{h: fx.a.Handler(), pair: fx.login(f, "fuzzer", fuzzPassword), passwords: []string{fuzzPassword}}
}

// check asserts the shared properties for one request and its response.
func (ft *fuzzTarget) check(t *testing.T, path, contentType, authz, body string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 && !(rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), "Server busy, retry later")) {
		t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
	}
	if rec.Code != http.StatusNoContent && rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%s: Content-Type %q", path, rec.Header().Get("Content-Type"))
	}
	if rec.Code >= 300 {
		return
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	bearerOK := strings.HasSuffix(authz, " "+ft.pair.AccessToken) && len(authz) <= len("Bearer  ")+len(ft.pair.AccessToken)
	switch path {
	case "/auth/login", "/auth/refresh":
		if !credentialsIn(contentType, body, append([]string{ft.pair.RefreshToken}, ft.passwords...)...) {
			t.Fatalf("%s granted tokens for %q", path, body)
		}
	case "/auth/me":
		if !bearerOK {
			t.Fatalf("%s succeeded with Authorization %q", path, authz)
		}
	case "/auth/change-password":
		if !bearerOK || !credentialsIn(contentType, body, ft.passwords...) {
			t.Fatalf("%s succeeded with Authorization %q and body %q", path, authz, body)
		}
		// The fuzzer found the password: remember the new one.
		var m struct {
			New string `json:"new_password"`
		}
		_ = json.Unmarshal([]byte(body), &m)
		ft.passwords = append(ft.passwords, m.New)
	}
}

// credentialsIn reports whether a lax decoding of body holds one of the
// secrets as a field value. Anything the strict decoders accept, this
// decodes too.
func credentialsIn(contentType, body string, secrets ...string) bool {
	var values []string
	mt, params, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json":
		// The first value only: trailing data is ignored here.
		var m map[string]any
		_ = json.NewDecoder(strings.NewReader(body)).Decode(&m)
		for _, v := range m {
			if s, ok := v.(string); ok {
				values = append(values, s)
			}
		}
	default:
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if mt == "multipart/form-data" && params["boundary"] != "" {
			_ = r.ParseMultipartForm(64 << 10)
		} else {
			_ = r.ParseForm()
		}
		for _, vs := range r.PostForm {
			values = append(values, vs...)
		}
	}
	for _, v := range values {
		for _, s := range secrets {
			if v == s {
				return true
			}
		}
	}
	return false
}

func FuzzLoginForm(f *testing.F) {
	ft := newFuzzTarget(f)
	f.Add("username=fuzzer&password=password-1")
	f.Add("grant_type=password&username=FUZZER&password=password%2D1")
	f.Add("grant_type=refresh_token&refresh_token=" + ft.pair.RefreshToken)
	f.Add("username=%ff&password=%00")
	f.Add("a=1&a=2;&&&=")
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		ft.h.ServeHTTP(rec, req)
		ft.check(t, "/auth/login", "application/x-www-form-urlencoded", "", body, rec)
	})
}

// FuzzHandler feeds arbitrary requests to the whole handler, from a peer
// whose X-Forwarded-For is believed.
func FuzzHandler(f *testing.F) {
	ft := newFuzzTarget(f)
	at, rt := ft.pair.AccessToken, ft.pair.RefreshToken
	f.Add("POST", "/auth/register", "application/json", "", "", `{"username":"someone","password":"password-1"}`)
	f.Add("POST", "/auth/login", "application/x-www-form-urlencoded", "", "203.0.113.9", "username=fuzzer&password=password-1")
	f.Add("POST", "/auth/login", "application/json", "", "", `{"username":"fuzzer","password":"password-1"}`)
	f.Add("POST", "/auth/login", "multipart/form-data; boundary=XX", "", "", "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nfuzzer\r\n--XX--\r\n")
	f.Add("POST", "/auth/refresh", "application/json", "", "", `{"refresh_token":"`+rt+`"}`)
	f.Add("GET", "/auth/me", "", "Bearer "+at, "", "")
	f.Add("POST", "/auth/change-password", "application/json", "Bearer "+at, "", `{"current_password":"x","new_password":"yyyyyyyy"}`)
	f.Add("GET", "/auth/me", "", "Bearer "+rt, "", "")
	f.Add("PATCH", "/auth/x", "text/plain", "Basic abc", "1.1.1.1, 10.0.0.1", "\x00")
	f.Fuzz(func(t *testing.T, method, path, contentType, authz, xff, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t?#%") || len(path) > 200 {
			return
		}
		if strings.ContainsAny(method+contentType+authz+xff, "\r\n\x00") || method == "" || strings.ContainsAny(method, " ()<>@,;:\\\"/[]?={}\t") {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = path
		for k, v := range map[string]string{"Content-Type": contentType, "Authorization": authz, "X-Forwarded-For": xff} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		ft.h.ServeHTTP(rec, req)
		ft.check(t, path, contentType, authz, body, rec)
	})
}
