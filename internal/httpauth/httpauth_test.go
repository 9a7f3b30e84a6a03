package httpauth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/auth/internal/httpauth"
)

// TestWriteJSONEndsInNewline: the body is what json.Encoder writes, byte
// for byte, newline included.
func TestWriteJSONEndsInNewline(t *testing.T) {
	values := []any{
		map[string]any{"a": 1, "b": "<x>"},
		[]int{1, 2, 3},
		"s",
		struct {
			Token string `json:"access_token"`
		}{"abc"},
		strings.Repeat("x", 62), // 64 bytes marshalled: a size class, so the newline needs a new buffer
	}
	for _, v := range values {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(v); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		httpauth.WriteJSON(rec, http.StatusCreated, v)
		if rec.Code != http.StatusCreated || rec.Body.String() != want.String() {
			t.Errorf("WriteJSON(%v) = %d %q, want 201 %q", v, rec.Code, rec.Body, want.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q", got)
		}
	}
}

func TestWriteJSONUnmarshalable(t *testing.T) {
	rec := httptest.NewRecorder()
	httpauth.WriteJSON(rec, http.StatusOK, func() {})
	if rec.Code != http.StatusInternalServerError ||
		rec.Body.String() != `{"detail":"Internal Server Error","error":"server_error"}`+"\n" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		code       string
		detail     string
		challenge  string
		body       string
		retryAfter string
	}{
		{"no token", http.StatusUnauthorized, httpauth.CodeInvalidRequest, httpauth.DetailNotAuthenticated, httpauth.ChallengeBearer,
			`{"detail":"Not authenticated","error":"invalid_request"}` + "\n", ""},
		{"invalid token", http.StatusUnauthorized, httpauth.CodeInvalidToken, httpauth.DetailInvalidCredentials, httpauth.ChallengeInvalidToken,
			`{"detail":"Could not validate credentials","error":"invalid_token"}` + "\n", ""},
		{"unavailable", http.StatusServiceUnavailable, httpauth.CodeTemporarilyUnavailable, httpauth.DetailTemporarilyUnavailable, "",
			`{"detail":"Service temporarily unavailable, retry later","error":"temporarily_unavailable"}` + "\n", "1"},
		{"server error", http.StatusInternalServerError, httpauth.CodeServerError, httpauth.DetailServerError, "",
			`{"detail":"Internal Server Error","error":"server_error"}` + "\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpauth.WriteError(rec, tc.status, tc.code, tc.detail, tc.challenge)
			h := rec.Header()
			switch {
			case rec.Code != tc.status || rec.Body.String() != tc.body:
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.body)
			case h.Get("WWW-Authenticate") != tc.challenge:
				t.Errorf("WWW-Authenticate = %q, want %q", h.Get("WWW-Authenticate"), tc.challenge)
			case h.Get("Retry-After") != tc.retryAfter:
				t.Errorf("Retry-After = %q, want %q", h.Get("Retry-After"), tc.retryAfter)
			case h.Get("Cache-Control") != "no-store":
				t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
			}
		})
	}
}
