package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

func TestRouter(t *testing.T) {
	a, err := auth.New(memstore.New(),
		auth.WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-example-test")),
		auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newRouter(a))
	defer srv.Close()

	res := call(t, srv, http.MethodPost, "/auth/register", "application/json",
		`{"username":"Alice","password":"correct horse battery"}`, "")
	wantStatus(t, res, http.StatusCreated)

	res = call(t, srv, http.MethodPost, "/auth/login", "application/x-www-form-urlencoded",
		url.Values{"username": {"alice"}, "password": {"correct horse battery"}}.Encode(), "")
	wantStatus(t, res, http.StatusOK)
	var tokens auth.TokenPair
	if err := json.Unmarshal(res.body, &tokens); err != nil || tokens.AccessToken == "" {
		t.Fatalf("login body %s: %v", res.body, err)
	}

	res = call(t, srv, http.MethodGet, "/hello", "", "", tokens.AccessToken)
	wantStatus(t, res, http.StatusOK)
	if got := string(res.body); got != "hello, alice\n" {
		t.Errorf("GET /hello = %q", got)
	}

	for _, tc := range []struct{ name, token, code string }{
		{"no token", "", "invalid_request"},
		{"bad token", "not-a-jwt", "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, srv, http.MethodGet, "/hello", "", "", tc.token)
			wantStatus(t, res, http.StatusUnauthorized)
			wantJSONError(t, res, tc.code)
		})
	}

	wantStatus(t, call(t, srv, http.MethodGet, "/", "", "", ""), http.StatusOK)
	res = call(t, srv, http.MethodGet, "/auth/nowhere", "", "", "")
	wantStatus(t, res, http.StatusNotFound)
	wantJSONError(t, res, "not_found")
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request; token, when set, goes in a bearer header.
func call(t *testing.T, srv *httptest.Server, method, path, contentType, body, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func wantStatus(t *testing.T, res response, status int) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body %s", res.status, status, res.body)
	}
}

func wantJSONError(t *testing.T, res response, code string) {
	t.Helper()
	var body struct{ Error string }
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(res.body, &body); err != nil || body.Error != code {
		t.Errorf("body %s: want error %q (decode error %v)", res.body, code, err)
	}
}
