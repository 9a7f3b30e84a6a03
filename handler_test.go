package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
)

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body, failing the test if it is not a JSON object.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func do(h http.Handler, method, path, contentType, body string, header ...string) response {
	return doFrom(h, "", method, path, contentType, body, header...)
}

// doFrom is do for a request from the peer remoteAddr ("" for httptest's
// default, 192.0.2.1:1234).
func doFrom(h http.Handler, remoteAddr, method, path, contentType, body string, header ...string) response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if remoteAddr != "" {
		req.RemoteAddr = remoteAddr
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

const ctJSON = "application/json"
const ctForm = "application/x-www-form-urlencoded"

func postJSON(h http.Handler, path, body string, header ...string) response {
	return do(h, http.MethodPost, path, ctJSON, body, header...)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// wantError checks an error response: status, JSON content type, the exact
// detail, the machine code, and that nothing internal leaked.
func wantError(t *testing.T, r response, status int, detail, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.json(t)
	if detail != "" && m["detail"] != detail {
		t.Errorf("detail = %v, want %q", m["detail"], detail)
	}
	if m["error"] != code {
		t.Errorf("error = %v, want %q", m["error"], code)
	}
	for _, leak := range []string{"auth:", "sql", "memstore", "dial tcp", "$argon2id"} {
		if bytes.Contains(bytes.ToLower(r.body), []byte(leak)) {
			t.Errorf("body leaks %q: %s", leak, r.body)
		}
	}
}

// wantProblems checks a 422 and its list of {loc, msg, type}.
func wantProblems(t *testing.T, r response, code string, want ...string) {
	t.Helper()
	wantError(t, r, http.StatusUnprocessableEntity, "", code)
	list, ok := r.json(t)["detail"].([]any)
	if !ok {
		t.Fatalf("detail is not a list: %s", r.body)
	}
	var got []string
	for _, e := range list {
		m := e.(map[string]any)
		loc := m["loc"].([]any)
		var parts []string
		for _, l := range loc {
			parts = append(parts, l.(string))
		}
		if m["msg"] == "" {
			t.Errorf("entry without msg: %v", m)
		}
		got = append(got, strings.Join(parts, ".")+":"+m["type"].(string))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("problems = %v, want %v", got, want)
	}
}

func loginForm(h http.Handler, user, pass string) response {
	return do(h, http.MethodPost, "/auth/login", ctForm, url.Values{"username": {user}, "password": {pass}}.Encode())
}

func tokensOf(t *testing.T, r response) auth.TokenPair {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, body %s", r.status, r.body)
	}
	var p auth.TokenPair
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRegisterEndpoint(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	r := postJSON(h, "/auth/register", `{"username":"Alice","password":"password-1","disabled":true,"id":"chosen","token_version":99,"password_hash":"x"}`)
	if r.status != http.StatusCreated || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["username"] != "alice" || m["disabled"] != false || m["id"] == "chosen" || m["id"] == "" {
		t.Errorf("body = %v", m)
	}
	if _, err := time.Parse(time.RFC3339Nano, m["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}
	if len(m) != 6 || m["email"] != nil || m["email_verified"] != false {
		t.Errorf("body has fields beyond id, username, disabled, created_at, email (null), email_verified: %v", m)
	}
	if bytes.Contains(r.body, []byte("argon2")) || bytes.Contains(r.body, []byte("version")) {
		t.Errorf("body leaks a secret: %s", r.body)
	}
	stored, _ := f.a.UserByUsername(context.Background(), "alice")
	if stored.Disabled || stored.TokenVersion != 1 {
		t.Errorf("undefined request fields were applied: %+v", *stored)
	}

	wantError(t, postJSON(h, "/auth/register", `{"username":"ALICE","password":"password-2"}`), http.StatusConflict, "Username already taken", "username_taken")
	wantError(t, postJSON(h, "/auth/register", `{"username":"ａｌｉｃｅ","password":"password-2"}`), http.StatusConflict, "Username already taken", "username_taken")

	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bo","password":"short"}`), "validation_error",
		"body.username:string_too_short", "body.password:string_too_short")
	wantProblems(t, postJSON(h, "/auth/register", `{}`), "validation_error", "body.username:missing", "body.password:missing")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob","password":12345678}`), "validation_error", "body.password:string_type")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob","password":null}`), "validation_error", "body.password:string_type")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob smith","password":"password-1"}`), "validation_error", "body.username:username_invalid")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob\u202e","password":"password-1"}`), "validation_error", "body.username:username_invalid")
	wantProblems(t, postJSON(h, "/auth/register", "{\"username\":\"bob\xff\",\"password\":\"password-1\"}"), "validation_error", "body.username:string_unicode")
	wantProblems(t, postJSON(h, "/auth/register", `{"Username":"bob","PASSWORD":"password-1"}`), "validation_error", "body.username:missing", "body.password:missing")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob","username":"eve","password":"password-1"}`), "validation_error", "body.username:duplicate_key")
	wantProblems(t, postJSON(h, "/auth/register", `[1,2]`), "validation_error", "body:model_attributes_type")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob","password":"password-1"} {"x":1}`), "validation_error", "body:json_invalid")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob",`), "validation_error", "body:json_invalid")
	wantProblems(t, postJSON(h, "/auth/register", ``), "validation_error", "body:json_invalid")
	wantProblems(t, postJSON(h, "/auth/register", `{"username":"bob","password":"password-1","x":`+strings.Repeat("[", 20000)+`}`), "validation_error", "body:json_invalid")
	// Nothing above created a user.
	if _, err := f.a.UserByUsername(context.Background(), "bob"); err == nil {
		t.Error("a rejected request created bob")
	}

	wantError(t, do(h, http.MethodPost, "/auth/register", "text/plain", `{"username":"bob","password":"password-1"}`), http.StatusUnsupportedMediaType, "Unsupported media type", "unsupported_media_type")
	wantError(t, do(h, http.MethodPost, "/auth/register", "", `{"username":"bob","password":"password-1"}`), http.StatusUnsupportedMediaType, "Unsupported media type", "unsupported_media_type")
	if r := do(h, http.MethodPost, "/auth/register", "application/json; charset=utf-8", `{"username":"bob","password":"password-1"}`); r.status != http.StatusCreated {
		t.Errorf("JSON with a charset parameter: %d %s", r.status, r.body)
	}
	big := `{"username":"carl","password":"password-1","pad":"` + strings.Repeat("x", 70<<10) + `"}`
	wantError(t, postJSON(h, "/auth/register", big), http.StatusRequestEntityTooLarge, "Request body too large", "request_too_large")
}

func TestLoginEndpoint(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "dora", "password-1")

	r := loginForm(h, "Dora", "password-1")
	p := tokensOf(t, r)
	if p.TokenType != "bearer" || p.ExpiresIn != 1800 || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("login response: %s, Cache-Control %q", r.body, r.header.Get("Cache-Control"))
	}
	for _, body := range []string{
		"grant_type=password&username=dora&password=password-1",
		"username=dora&password=password-1&scope=&client_id=x",
	} {
		tokensOf(t, do(h, http.MethodPost, "/auth/login", ctForm, body))
	}
	tokensOf(t, postJSON(h, "/auth/login", `{"username":"dora","password":"password-1"}`))
	next := tokensOf(t, do(h, http.MethodPost, "/auth/login", ctForm, "grant_type=refresh_token&refresh_token="+p.RefreshToken))
	if next.AccessToken == "" {
		t.Error("refresh_token grant gave no token")
	}

	wrong := loginForm(h, "dora", "password-2")
	unknown := loginForm(h, "nobody", "password-1")
	wantError(t, wrong, http.StatusUnauthorized, "Invalid username or password", "invalid_grant")
	if !bytes.Equal(wrong.body, unknown.body) || wrong.status != unknown.status {
		t.Errorf("unknown user and wrong password differ:\n%s\n%s", wrong.body, unknown.body)
	}
	if wrong.header.Get("WWW-Authenticate") != "Bearer" || unknown.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("WWW-Authenticate = %q / %q", wrong.header.Get("WWW-Authenticate"), unknown.header.Get("WWW-Authenticate"))
	}
	// The password is read from the body only, never from the URL.
	wantProblems(t, do(h, http.MethodPost, "/auth/login?password=password-1", ctForm, "username=dora"), "invalid_request", "body.password:missing")
	wantProblems(t, do(h, http.MethodPost, "/auth/login", ctForm, "username=dora&password=a&password=b"), "invalid_request", "body.password:duplicate_key")
	wantProblems(t, do(h, http.MethodPost, "/auth/login", ctForm, "grant_type=refresh_token"), "invalid_request", "body.refresh_token:missing")
	wantError(t, do(h, http.MethodPost, "/auth/login", ctForm, "grant_type=client_credentials"), http.StatusBadRequest, "Unsupported grant type", "unsupported_grant_type")
	wantError(t, do(h, http.MethodPost, "/auth/login", "text/plain", "username=dora&password=password-1"), http.StatusUnsupportedMediaType, "", "unsupported_media_type")
	wantError(t, do(h, http.MethodPost, "/auth/login", ctForm, "grant_type=refresh_token&refresh_token=garbage"), http.StatusUnauthorized, "Could not validate credentials", "invalid_grant")

	u, _ := f.a.UserByUsername(context.Background(), "dora")
	if err := f.a.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	wantError(t, loginForm(h, "dora", "password-1"), http.StatusForbidden, "User account is disabled", "invalid_grant")
	wantError(t, loginForm(h, "dora", "password-2"), http.StatusUnauthorized, "Invalid username or password", "invalid_grant")
}

func TestLoginMultipart(t *testing.T) {
	f := newFixture(t)
	f.register(t, "ezra", "password-1")
	body := "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nezra\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npassword-1\r\n--XX--\r\n"
	tokensOf(t, do(f.a.Handler(), http.MethodPost, "/auth/login", "multipart/form-data; boundary=XX", body))
}

func TestRefreshEndpoint(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := f.register(t, "finn", "password-1")
	p := tokensOf(t, loginForm(h, "finn", "password-1"))

	next := tokensOf(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`))
	if _, err := f.a.VerifyAccessToken(context.Background(), next.AccessToken); err != nil {
		t.Errorf("refreshed token: %v", err)
	}
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"garbage"}`), http.StatusUnauthorized, "Could not validate credentials", "invalid_grant")
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.AccessToken+`"}`), http.StatusUnauthorized, "Could not validate credentials", "invalid_grant")
	wantProblems(t, postJSON(h, "/auth/refresh", `{}`), "invalid_request", "body.refresh_token:missing")

	f.clock.Advance(8 * 24 * time.Hour)
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), http.StatusUnauthorized, "Could not validate credentials", "invalid_grant")
	f.clock.Advance(-8 * 24 * time.Hour)

	ctx := context.Background()
	if err := f.a.ChangePassword(ctx, u, "password-1", "password-2"); err != nil {
		t.Fatal(err)
	}
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), http.StatusUnauthorized, "Token has been invalidated, please log in again", "invalid_grant")
	p2 := tokensOf(t, loginForm(h, "finn", "password-2"))
	if err := f.a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p2.RefreshToken+`"}`), http.StatusUnauthorized, "User no longer active", "invalid_grant")

	g := f.register(t, "gail", "password-1")
	p3 := tokensOf(t, loginForm(h, "gail", "password-1"))
	if err := f.store.DeleteUser(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p3.RefreshToken+`"}`), http.StatusUnauthorized, "User no longer active", "invalid_grant")
}

func TestMeEndpoint(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	u := f.register(t, "gwen", "password-1")
	p := tokensOf(t, loginForm(h, "gwen", "password-1"))

	r := do(h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...)
	if r.status != http.StatusOK {
		t.Fatalf("me: %d %s", r.status, r.body)
	}
	if m := r.json(t); m["id"] != u.ID || m["username"] != "gwen" || len(m) != 6 {
		t.Errorf("me = %v", m)
	}
	if r := do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "bearer "+p.AccessToken); r.status != http.StatusOK {
		t.Errorf("lowercase scheme: %d", r.status)
	}
	if r := do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "BEARER  "+p.AccessToken); r.status != http.StatusOK {
		t.Errorf("uppercase scheme, two spaces: %d", r.status)
	}

	notAuth := func(r response) {
		t.Helper()
		wantError(t, r, http.StatusUnauthorized, "Not authenticated", "invalid_request")
		if r.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
		}
	}
	notAuth(do(h, http.MethodGet, "/auth/me", "", ""))
	notAuth(do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "Basic Z3dlbjpwYXNzd29yZC0x"))
	notAuth(do(h, http.MethodGet, "/auth/me", "", "", "Authorization", p.AccessToken))
	notAuth(do(h, http.MethodGet, "/auth/me?access_token="+p.AccessToken, "", ""))

	badToken := func(r response) {
		t.Helper()
		wantError(t, r, http.StatusUnauthorized, "Could not validate credentials", "invalid_token")
		if r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
		}
	}
	badToken(do(h, http.MethodGet, "/auth/me", "", "", bearer("garbage")...))
	badToken(do(h, http.MethodGet, "/auth/me", "", "", bearer(p.RefreshToken)...))
	badToken(do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "Bearer"))
	badToken(do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "Bearer a b"))
	badToken(do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "Bearer "+strings.Repeat(".", 1<<20)))
	badToken(do(h, http.MethodGet, "/auth/me", "", "", "Authorization", "Bearer "+p.AccessToken, "Authorization", "Bearer "+p.AccessToken))

	f.clock.Advance(31 * time.Minute)
	badToken(do(h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...))
	f.clock.Advance(-31 * time.Minute)

	if err := f.a.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	r = do(h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...)
	if r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
		t.Errorf("disabled user's token: %d", r.status)
	}
}

func TestChangePasswordEndpoint(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "hank", "password-1")
	p := tokensOf(t, loginForm(h, "hank", "password-1"))
	auth := bearer(p.AccessToken)

	// 401 wins over 422: the body is not looked at without a token.
	wantError(t, postJSON(h, "/auth/change-password", `{"new_password":"x"}`), http.StatusUnauthorized, "Not authenticated", "invalid_request")
	wantError(t, postJSON(h, "/auth/change-password", `not json`, bearer("garbage")...), http.StatusUnauthorized, "Could not validate credentials", "invalid_token")

	wantProblems(t, postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"short"}`, auth...), "validation_error", "body.new_password:string_too_short")
	wantProblems(t, postJSON(h, "/auth/change-password", `{"current_password":"password-1"}`, auth...), "validation_error", "body.new_password:missing")
	wantError(t, postJSON(h, "/auth/change-password", `{"current_password":"password-x","new_password":"password-2"}`, auth...), http.StatusBadRequest, "Current password is incorrect", "incorrect_password")
	wantError(t, postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-1"}`, auth...), http.StatusBadRequest, "New password must differ from current password", "password_unchanged")

	r := postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, auth...)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("change-password: %d %q", r.status, r.body)
	}
	wantError(t, do(h, http.MethodGet, "/auth/me", "", "", auth...), http.StatusUnauthorized, "Token has been invalidated, please log in again", "invalid_token")
	wantError(t, postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), http.StatusUnauthorized, "Token has been invalidated, please log in again", "invalid_grant")
	wantError(t, loginForm(h, "hank", "password-1"), http.StatusUnauthorized, "Invalid username or password", "invalid_grant")
	// Same second, new token: works at once.
	p2 := tokensOf(t, loginForm(h, "hank", "password-2"))
	if r := do(h, http.MethodGet, "/auth/me", "", "", bearer(p2.AccessToken)...); r.status != http.StatusOK {
		t.Errorf("new token after change: %d %s", r.status, r.body)
	}
}

func TestRoutingErrors(t *testing.T) {
	h := newFixture(t).a.Handler()
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/auth/login", "POST"},
		{http.MethodPut, "/auth/register", "POST"},
		{http.MethodPost, "/auth/me", "GET"},
		{http.MethodDelete, "/auth/refresh", "POST"},
	} {
		r := do(h, c.method, c.path, "", "")
		wantError(t, r, http.StatusMethodNotAllowed, "Method Not Allowed", "method_not_allowed")
		if r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow = %q", c.method, c.path, r.header.Get("Allow"))
		}
	}
	for _, p := range []string{"/auth/", "/auth/nope", "/auth/me/", "/auth/login/x"} {
		wantError(t, do(h, http.MethodGet, p, "", ""), http.StatusNotFound, "Not Found", "not_found")
	}
}

// TestWrongMountSaysHowToMount: a path outside /auth/ most likely means the
// handler was mounted under a prefix that was not stripped; the 404 says
// which paths it serves and how to strip the prefix.
func TestWrongMountSaysHowToMount(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/auth/", f.a.Handler()) // the mistake: no StripPrefix
	for path, want := range map[string]string{
		"/api/v1/auth/login": `Not Found: this handler serves paths under /auth/ (see /auth/openapi.json); to serve it under "/api/v1/auth/", strip the prefix: http.StripPrefix("/api/v1", a.Handler())`,
		"/other":             `Not Found: this handler serves paths under /auth/ (see /auth/openapi.json); to serve it under a prefix such as /api/v1/auth/, strip the prefix: http.StripPrefix("/api/v1", a.Handler())`,
	} {
		h := http.Handler(mux)
		if path == "/other" {
			h = f.a.Handler()
		}
		wantError(t, do(h, http.MethodPost, path, "", ""), http.StatusNotFound, want, "not_found")
	}
}

func TestMountUnderPrefix(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1", f.a.Handler()))
	r := postJSON(mux, "/api/v1/auth/register", `{"username":"ike","password":"password-1"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("register under a prefix: %d %s", r.status, r.body)
	}
}

func TestStoreDownGives503(t *testing.T) {
	f := newFixture(t)
	fs := &flakyStore{UserStore: f.store}
	a, _ := auth.New(fs, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	h := a.Handler()
	if r := postJSON(h, "/auth/register", `{"username":"jack","password":"password-1"}`); r.status != http.StatusCreated {
		t.Fatalf("register: %d", r.status)
	}
	p := tokensOf(t, loginForm(h, "jack", "password-1"))
	nextCalled := false
	protected := a.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { nextCalled = true }))

	fs.setErr(errDown)
	for name, r := range map[string]response{
		"register":        postJSON(h, "/auth/register", `{"username":"kate","password":"password-1"}`),
		"login":           loginForm(h, "jack", "password-1"),
		"refresh":         postJSON(h, "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`),
		"me":              do(h, http.MethodGet, "/auth/me", "", "", bearer(p.AccessToken)...),
		"change-password": postJSON(h, "/auth/change-password", `{"current_password":"password-1","new_password":"password-2"}`, bearer(p.AccessToken)...),
		"middleware":      do(protected, http.MethodGet, "/hello", "", "", bearer(p.AccessToken)...),
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, r, http.StatusServiceUnavailable, "Service temporarily unavailable, retry later", "temporarily_unavailable")
			if r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
	if nextCalled {
		t.Error("the middleware let a request through while the store was down")
	}
	fs.setErr(nil)
	tokensOf(t, loginForm(h, "jack", "password-1"))
}

func TestConcurrentRegistrationOneWinner(t *testing.T) {
	h := newFixture(t).a.Handler()
	const n = 50
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// From n addresses, each within its registration budget.
			codes <- doFrom(h, fmt.Sprintf("198.51.100.%d:1", i+1), http.MethodPost, "/auth/register", ctJSON,
				`{"username":"Race","password":"password-1"}`).status
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("status counts = %v, want one 201 and %d × 409", count, n-1)
	}
}

var _ = io.EOF
