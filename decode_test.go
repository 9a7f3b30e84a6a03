package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// JSON bodies follow one set of rules at every endpoint. Duplicates of a
// defined field are refused; keys that differ only in case are different
// keys, so "Username" is ignored rather than read as "username".
func TestHostileJSONBodies(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	f.register(t, "ines", "password-1")
	p := f.login(t, "ines", "password-1")
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	tests := []struct {
		name, path, body string
		auth             bool
		code             string
		want             []string
	}{
		{"login: duplicate key", "/auth/login", `{"username":"ines","password":"x","password":"password-1"}`, false, "invalid_request", []string{"body.password:duplicate_key"}},
		{"login: case variants only", "/auth/login", `{"USERNAME":"ines","Password":"password-1"}`, false, "invalid_request", []string{"body.username:missing", "body.password:missing"}},
		{"login: trailing data", "/auth/login", `{"username":"ines","password":"password-1"}{}`, false, "invalid_request", []string{"body:json_invalid"}},
		{"login: trailing garbage", "/auth/login", `{"username":"ines","password":"password-1"} x`, false, "invalid_request", []string{"body:json_invalid"}},
		{"login: deeply nested value", "/auth/login", `{"username":"ines","password":` + deep + `}`, false, "invalid_request", []string{"body:json_invalid"}},
		{"login: deeply nested, ignored field", "/auth/login", `{"username":"ines","password":"password-1","x":` + deep + `}`, false, "invalid_request", []string{"body:json_invalid"}},
		{"refresh: duplicate key", "/auth/refresh", `{"refresh_token":"a","refresh_token":"b"}`, false, "invalid_request", []string{"body.refresh_token:duplicate_key"}},
		{"refresh: trailing data", "/auth/refresh", `{"refresh_token":"a"} []`, false, "invalid_request", []string{"body:json_invalid"}},
		{"change-password: duplicate key", "/auth/change-password", `{"current_password":"password-1","new_password":"password-2","new_password":"password-3"}`, true, "validation_error", []string{"body.new_password:duplicate_key"}},
		{"change-password: case variant", "/auth/change-password", `{"current_password":"password-1","New_Password":"password-2"}`, true, "validation_error", []string{"body.new_password:missing"}},
		{"change-password: nested", "/auth/change-password", `{"current_password":"password-1","new_password":{"a":` + strings.Repeat(`{"a":`, 12000) + `1` + strings.Repeat("}", 12001) + `}`, true, "validation_error", []string{"body:json_invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.auth {
				header = bearer(p.AccessToken)
			}
			wantProblems(t, postJSON(h, tc.path, tc.body, header...), tc.code, tc.want...)
		})
	}
	// A case variant next to the real key does not clash with it.
	tokensOf(t, postJSON(h, "/auth/login", `{"username":"ines","Username":"someone-else","password":"password-1"}`))
}

// Bodies sent with chunked transfer encoding, which carry no length up
// front, are cut off at the cap as they are read: 413, through a real
// server.
func TestChunkedBodiesOverTheCap(t *testing.T) {
	f := newFixture(t)
	f.register(t, "jens", "password-1")
	p := f.login(t, "jens", "password-1")
	var mu sync.Mutex
	var encodings []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		encodings = append(encodings, strings.Join(r.TransferEncoding, ","))
		mu.Unlock()
		f.a.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()

	huge := func(prefix string) io.Reader {
		return lengthless{io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatByte('a'), 8<<20))}
	}
	post := func(path, ct string, body io.Reader, header ...string) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ct)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{res.StatusCode, res.Header, b}
	}
	tests := []struct {
		name, path, ct, prefix string
		header                 []string
	}{
		{"register JSON", "/auth/register", ctJSON, `{"username":"kai","password":"`, nil},
		{"login form", "/auth/login", ctForm, "username=jens&password=", nil},
		{"login JSON", "/auth/login", ctJSON, `{"username":"jens","password":"`, nil},
		{"login multipart", "/auth/login", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n", nil},
		{"refresh", "/auth/refresh", ctJSON, `{"refresh_token":"`, nil},
		{"change-password", "/auth/change-password", ctJSON, `{"current_password":"password-1","new_password":"`, bearer(p.AccessToken)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.path, tc.ct, huge(tc.prefix), tc.header...)
			wantError(t, r, http.StatusRequestEntityTooLarge, "Request body too large", "request_too_large")
		})
	}
	// Under the cap, a chunked body is fine.
	if r := post("/auth/register", ctJSON, lengthless{strings.NewReader(`{"username":"kai","password":"password-1"}`)}); r.status != http.StatusCreated {
		t.Errorf("small chunked body: %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range encodings {
		if e != "chunked" {
			t.Fatalf("a request went as %q, not chunked", e)
		}
	}
}

// repeatByte is an endless reader of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// lengthless hides the length of a body, so the client sends it chunked.
type lengthless struct{ io.Reader }

// TestLoneSurrogateEscapesAreRefused: "\ud800" would decode to U+FFFD, so
// "passw\ud800rd" and "passw\udfffrd" would be one password. Both are 422.
func TestLoneSurrogateEscapesAreRefused(t *testing.T) {
	f := newFixture(t)
	h := f.a.Handler()
	for _, body := range []string{
		`{"username":"lone","password":"passw\ud800rd-1"}`,
		`{"username":"lo\udfffne","password":"password-1"}`,
	} {
		r := postJSON(h, "/auth/register", body)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "string_unicode") {
			t.Fatalf("register %s: %d %s, want 422 string_unicode", body, r.status, r.body)
		}
	}
	if r := postJSON(h, "/auth/register", `{"username":"pair","password":"passw\ud83d\ude00rd"}`); r.status != http.StatusCreated {
		t.Fatalf("a surrogate pair was refused: %d %s", r.status, r.body)
	}
}
