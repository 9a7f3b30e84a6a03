// Package httpauth holds the HTTP pieces that the root package and the
// verifier share, so that both read bearer tokens the same way and answer
// with the same JSON error shape.
package httpauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/auth/internal/jose"
)

// Errors of [BearerToken].
var (
	// ErrNoToken: no Authorization header, or another scheme.
	ErrNoToken = errors.New("no bearer token")
	// ErrBadToken: several Authorization headers, or a bearer token that
	// is empty, too long or contains spaces.
	ErrBadToken = errors.New("malformed bearer token")
)

// WWW-Authenticate challenges (RFC 6750 section 3).
const (
	ChallengeBearer       = "Bearer"
	ChallengeInvalidToken = `Bearer error="invalid_token"`
)

// BearerToken extracts the token from the one Authorization header. The
// scheme is matched case-insensitively (RFC 7235); the query string is never
// consulted.
func BearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", ErrBadToken
	}
	v := vals[0]
	if len(v) > len("Bearer ")+jose.MaxTokenLength {
		return "", ErrBadToken
	}
	scheme, token, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	token = strings.Trim(token, " ")
	if token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
		return "", ErrBadToken
	}
	return token, nil
}

// WriteError writes the JSON error body {"detail": ..., "error": code} with
// the status, the WWW-Authenticate challenge when there is one, Retry-After
// on 503, and Cache-Control: no-store.
func WriteError(w http.ResponseWriter, status int, code string, detail any, challenge string) {
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	h.Set("Cache-Control", "no-store")
	body := struct {
		Detail any    `json:"detail"`
		Error  string `json:"error"`
	}{Detail: detail, Error: code}
	WriteJSON(w, status, body)
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		status = http.StatusInternalServerError
		b = []byte(`{"detail":"Internal Server Error","error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
