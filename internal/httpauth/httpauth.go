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
	// ChallengeBearer goes with a request that carried no token.
	ChallengeBearer = "Bearer"
	// ChallengeInvalidToken goes with a token that failed verification.
	ChallengeInvalidToken = `Bearer error="invalid_token"`
)

// The "error" codes that the root package and the verifier both answer
// with, so that the two cannot drift apart.
const (
	// CodeInvalidRequest: no bearer token (RFC 6750 section 3.1).
	CodeInvalidRequest = "invalid_request"
	// CodeInvalidToken: a token that failed verification (RFC 6750
	// section 3.1).
	CodeInvalidToken = "invalid_token"
	// CodeTemporarilyUnavailable: a 503, to be retried.
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	// CodeServerError: a 500.
	CodeServerError = "server_error"
)

// The "detail" messages that go with the codes above.
const (
	// DetailNotAuthenticated goes with CodeInvalidRequest.
	DetailNotAuthenticated = "Not authenticated"
	// DetailInvalidCredentials goes with CodeInvalidToken.
	DetailInvalidCredentials = "Could not validate credentials"
	// DetailTemporarilyUnavailable goes with CodeTemporarilyUnavailable.
	DetailTemporarilyUnavailable = "Service temporarily unavailable, retry later"
	// DetailServerError goes with CodeServerError.
	DetailServerError = "Internal Server Error"
)

// BearerToken extracts the token from the one Authorization header. The
// scheme is matched case-insensitively (RFC 7235); the query string is never
// consulted.
func BearerToken(r *http.Request) (string, error) {
	token, dpop, err := AccessToken(r)
	if dpop {
		return "", ErrNoToken
	}
	return token, err
}

// AccessToken is [BearerToken] that also takes the DPoP scheme (RFC 9449
// section 7.1): dpop reports which scheme the token came in, also with
// ErrBadToken for a malformed token.
func AccessToken(r *http.Request) (token string, dpop bool, err error) {
	vals := r.Header["Authorization"] // the canonical key: Values would canonicalize it again on every request
	switch len(vals) {
	case 0:
		return "", false, ErrNoToken
	case 1:
	default:
		return "", false, ErrBadToken
	}
	v := vals[0]
	if len(v) > len("Bearer ")+jose.MaxTokenLength {
		return "", false, ErrBadToken
	}
	scheme, token, _ := strings.Cut(v, " ")
	dpop = strings.EqualFold(scheme, "DPoP")
	if !dpop && !strings.EqualFold(scheme, "Bearer") {
		return "", false, ErrNoToken
	}
	token = strings.Trim(token, " ")
	if token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
		return "", dpop, ErrBadToken
	}
	return token, dpop, nil
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

// WriteJSON writes v as a JSON response, ending in a newline as
// json.Encoder writes it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		status = http.StatusInternalServerError
		b = []byte(`{"detail":"` + DetailServerError + `","error":"` + CodeServerError + `"}`)
	}
	// Marshal rounds its buffer up to a size class, so this append
	// rarely allocates; and the body goes out in one Write.
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
