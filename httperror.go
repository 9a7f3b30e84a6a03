package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/auth/internal/httpauth"
)

// Errors that only the HTTP layer produces.
var (
	errNotFound         = errors.New("auth: no such endpoint")
	errMethodNotAllowed = errors.New("auth: method not allowed")
	errUnsupportedMedia = errors.New("auth: unsupported media type")
	errMalformedJSON    = errors.New("auth: malformed JSON body")
	errUnsupportedGrant = errors.New("auth: unsupported grant type")
	errCrossOrigin      = errors.New("auth: cross-origin request refused")
)

// mountError is the 404 for a path outside /auth/: most likely the handler
// was mounted under a prefix that was not stripped, so the answer says how.
type mountError struct{ path string }

func (e *mountError) Error() string { return "auth: no such endpoint: " + e.path }
func (e *mountError) Unwrap() error { return errNotFound }

// detail tells the client which paths the handler serves and how to mount
// it under a prefix.
func (e *mountError) detail() string {
	const serves = "Not Found: this handler serves paths under /auth/ (see /auth/openapi.json)"
	if i := strings.Index(e.path, "/auth/"); i > 0 {
		return fmt.Sprintf("%s; to serve it under %q, strip the prefix: http.StripPrefix(%q, a.Handler())", serves, e.path[:i]+"/auth/", e.path[:i])
	}
	return serves + "; to serve it under a prefix such as /api/v1/auth/, strip the prefix: http.StripPrefix(\"/api/v1\", a.Handler())"
}

// grantError marks an error from the OAuth2 token endpoints (login and
// refresh), whose error codes come from RFC 6749 section 5.2 rather than
// RFC 6750.
type grantError struct{ err error }

func (e grantError) Error() string { return e.err.Error() }
func (e grantError) Unwrap() error { return e.err }

// problem is the HTTP form of an error.
type problem struct {
	status int
	code   string // machine-readable "error" member
	detail string // human-readable "detail" member, as FastAPI clients expect it
	// challenge is the WWW-Authenticate value, if any.
	challenge string
	// retryAfter is the Retry-After value in seconds, if any.
	retryAfter int64
	// dpopNonce is the DPoP-Nonce value, if any.
	dpopNonce string
	// mfaToken is the "mfa_token" member of an mfa_required answer to a
	// right password.
	mfaToken string
}

// Error codes of DPoP (RFC 9449 sections 5, 7.1 and 8).
const (
	codeInvalidDPoPProof = "invalid_dpop_proof"
	codeUseDPoPNonce     = "use_dpop_nonce"
)

const detailMFARequired = "Multi-factor authentication required"

const (
	challengeBearer       = httpauth.ChallengeBearer
	challengeInvalidToken = httpauth.ChallengeInvalidToken
)

// problemFor maps an error to its HTTP status, code and message. It is the
// only place where that mapping is made.
func problemFor(err error) problem {
	var grant grantError
	atTokenEndpoint := errors.As(err, &grant)
	tokenCode := httpauth.CodeInvalidToken
	if atTokenEndpoint {
		tokenCode = "invalid_grant"
	}
	var tooLarge *http.MaxBytesError
	var throttled *ThrottledError
	var mount *mountError
	var challenge *dpopChallenge
	var nonce *dpopNonceError
	var mfaRequired *MFARequiredError
	var flow flowError
	switch {
	case errors.As(err, &challenge) && !atTokenEndpoint:
		p := problemFor(challenge.err)
		if p.status == http.StatusUnauthorized {
			p.challenge = dpopChallengeFor(challenge, p)
		}
		return p
	case errors.As(err, &nonce):
		status := http.StatusUnauthorized
		if atTokenEndpoint {
			status = http.StatusBadRequest
		}
		return problem{status: status, code: codeUseDPoPNonce, detail: "DPoP proof must carry the server's nonce", dpopNonce: nonce.nonce}
	case errors.Is(err, ErrInvalidDPoPProof):
		if atTokenEndpoint {
			return problem{status: http.StatusBadRequest, code: codeInvalidDPoPProof, detail: "Invalid DPoP proof"}
		}
		return problem{status: http.StatusUnauthorized, code: codeInvalidDPoPProof, detail: "Invalid DPoP proof",
			challenge: `DPoP error="` + codeInvalidDPoPProof + `"`}
	case errors.As(err, &throttled):
		detail := "Too many failed login attempts, retry later"
		switch throttled.Budget {
		case "register":
			detail = "Too many registrations, retry later"
		case "mfa":
			detail = "Too many wrong codes, retry later"
		case "api_key":
			detail = "Too many invalid API keys, retry later"
		case budgetMail, budgetRecipient:
			detail = "Too many emails requested, retry later"
		case budgetRedeem:
			detail = "Too many invalid tokens, retry later"
		case budgetPasskeyBegin:
			detail = "Too many passkey login attempts, retry later"
		case budgetPasskeyLogin:
			detail = "Too many failed passkey logins, retry later"
		}
		return problem{status: http.StatusTooManyRequests, code: "too_many_attempts", detail: detail,
			retryAfter: max(1, int64(math.Ceil(throttled.RetryAfter.Seconds())))}
	case errors.As(err, &mfaRequired):
		return problem{status: http.StatusForbidden, code: "mfa_required", detail: detailMFARequired, mfaToken: mfaRequired.Token}
	case errors.Is(err, ErrMFARequired):
		return problem{status: http.StatusForbidden, code: "mfa_required", detail: detailMFARequired}
	case errors.Is(err, ErrReauthenticationRequired):
		return problem{status: http.StatusForbidden, code: "reauthentication_required", detail: "Recent authentication required, please log in again"}
	case errors.Is(err, ErrInvalidPasskey):
		return problem{status: http.StatusUnauthorized, code: "invalid_passkey", detail: "Passkey not accepted", challenge: challengeBearer}
	case errors.Is(err, ErrInvalidCode):
		return problem{status: http.StatusUnauthorized, code: "invalid_code", detail: "Invalid code", challenge: challengeBearer}
	case errors.Is(err, ErrCredentialNotFound):
		return problem{status: http.StatusNotFound, code: "credential_not_found", detail: "Not found"}
	case errors.Is(err, ErrCredentialExists):
		return problem{status: http.StatusConflict, code: "credential_exists", detail: "Already enabled"}
	case errors.Is(err, ErrMFAUnsupported):
		return problem{status: http.StatusNotImplemented, code: "mfa_unsupported", detail: "Second factors are not supported by this server"}
	case errors.Is(err, ErrBusy):
		return problem{status: http.StatusServiceUnavailable, code: httpauth.CodeTemporarilyUnavailable, detail: "Server busy, retry later", retryAfter: 1}
	case errors.As(err, &tooLarge):
		return problem{status: http.StatusRequestEntityTooLarge, code: "request_too_large", detail: "Request body too large"}
	case errors.As(err, &mount):
		return problem{status: http.StatusNotFound, code: "not_found", detail: mount.detail()}
	case errors.Is(err, errNoSuchUser):
		return problem{status: http.StatusNotFound, code: "user_not_found", detail: "User not found"}
	case errors.Is(err, ErrAPIKeyNotFound):
		return problem{status: http.StatusNotFound, code: "api_key_not_found", detail: "API key not found"}
	case errors.Is(err, ErrInvalidCursor):
		return problem{status: http.StatusBadRequest, code: "invalid_cursor", detail: "Invalid cursor: use the next value of an earlier page of the same query"}
	case errors.Is(err, ErrInsufficientRole):
		return problem{status: http.StatusForbidden, code: "insufficient_role", detail: "Insufficient role"}
	case errors.Is(err, ErrInsufficientScope):
		return problem{status: http.StatusForbidden, code: "insufficient_scope", detail: "Insufficient scope", challenge: `Bearer error="insufficient_scope"`}
	case errors.Is(err, ErrAPIKeyNotAllowed):
		return problem{status: http.StatusForbidden, code: "api_key_not_allowed", detail: "API keys cannot be used here; use an access token"}
	case errors.Is(err, ErrLastAdmin):
		return problem{status: http.StatusConflict, code: "last_admin", detail: "The last enabled admin cannot be removed, disabled or deleted"}
	case errors.Is(err, ErrSelfLockout):
		return problem{status: http.StatusConflict, code: "self_lockout", detail: "Admins cannot disable or delete themselves or drop their own admin role"}
	case errors.Is(err, ErrAdminUnsupported):
		return problem{status: http.StatusNotImplemented, code: "admin_unsupported", detail: "The store does not support this operation"}
	case errors.Is(err, errNotFound):
		return problem{status: http.StatusNotFound, code: "not_found", detail: "Not Found"}
	case errors.Is(err, errMethodNotAllowed):
		return problem{status: http.StatusMethodNotAllowed, code: "method_not_allowed", detail: "Method Not Allowed"}
	case errors.Is(err, errUnsupportedMedia):
		return problem{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", detail: "Unsupported media type"}
	case errors.Is(err, errCrossOrigin):
		return problem{status: http.StatusForbidden, code: "cross_origin_request", detail: "Cross-origin request refused"}
	case errors.Is(err, errUnsupportedGrant):
		return problem{status: http.StatusBadRequest, code: "unsupported_grant_type", detail: "Unsupported grant type"}
	case errors.Is(err, errMalformedJSON), errors.Is(err, ErrValidation):
		code := "validation_error"
		if atTokenEndpoint {
			code = "invalid_request"
		}
		return problem{status: http.StatusUnprocessableEntity, code: code}
	case errors.Is(err, ErrOneTimeTokenInvalid):
		detail := detailVerifyBadToken
		if errors.As(err, &flow) {
			detail = flow.detail
		}
		return problem{status: http.StatusBadRequest, code: "bad_token", detail: detail}
	case errors.Is(err, ErrAlreadyVerified):
		return problem{status: http.StatusBadRequest, code: "already_verified", detail: "VERIFY_USER_ALREADY_VERIFIED"}
	case errors.Is(err, ErrEmailTaken):
		return problem{status: http.StatusConflict, code: "email_taken", detail: "Email address already taken"}
	case errors.Is(err, ErrEmailUnsupported):
		return problem{status: http.StatusNotImplemented, code: "email_unsupported", detail: "Email is not supported by this server"}
	case errors.Is(err, ErrUserExists):
		return problem{status: http.StatusConflict, code: "username_taken", detail: "Username already taken"}
	case errors.Is(err, ErrInvalidCredentials):
		return problem{status: http.StatusUnauthorized, code: "invalid_grant", detail: "Invalid username or password", challenge: challengeBearer}
	case errors.Is(err, ErrUserInactive):
		return problem{status: http.StatusUnauthorized, code: "invalid_grant", detail: "User no longer active", challenge: challengeInvalidToken}
	case errors.Is(err, ErrUserDisabled):
		code := "user_disabled"
		if atTokenEndpoint {
			code = "invalid_grant"
		}
		return problem{status: http.StatusForbidden, code: code, detail: "User account is disabled"}
	case errors.Is(err, ErrNoToken):
		return problem{status: http.StatusUnauthorized, code: httpauth.CodeInvalidRequest, detail: httpauth.DetailNotAuthenticated, challenge: challengeBearer}
	case errors.Is(err, ErrTokenInvalidated):
		return problem{status: http.StatusUnauthorized, code: tokenCode, detail: "Token has been invalidated, please log in again", challenge: challengeInvalidToken}
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrUserNotFound):
		// ErrUserNotFound reaches here when the token's user was deleted
		// between the middleware's (cached) check and the operation.
		return problem{status: http.StatusUnauthorized, code: tokenCode, detail: httpauth.DetailInvalidCredentials, challenge: challengeInvalidToken}
	case errors.Is(err, ErrIncorrectPassword):
		return problem{status: http.StatusBadRequest, code: "incorrect_password", detail: "Current password is incorrect"}
	case errors.Is(err, ErrSamePassword):
		return problem{status: http.StatusBadRequest, code: "password_unchanged", detail: "New password must differ from current password"}
	case errors.Is(err, ErrSessionNotFound):
		return problem{status: http.StatusNotFound, code: "session_not_found", detail: "Session not found"}
	case errors.Is(err, ErrSessionsUnsupported):
		return problem{status: http.StatusNotImplemented, code: "sessions_unsupported", detail: "Sessions are not supported by this server"}
	case errors.Is(err, ErrRejected):
		return problem{status: http.StatusForbidden, code: "forbidden", detail: "Forbidden"}
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrConflict),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// ErrConflict here means concurrent updates kept winning the race:
		// trying again is the answer.
		return problem{status: http.StatusServiceUnavailable, code: httpauth.CodeTemporarilyUnavailable, detail: httpauth.DetailTemporarilyUnavailable, retryAfter: 1}
	default:
		return problem{status: http.StatusInternalServerError, code: httpauth.CodeServerError, detail: httpauth.DetailServerError}
	}
}

// WriteError writes err as a JSON error response:
//
//	{"detail": "Could not validate credentials", "error": "invalid_token"}
//
// with the status code, WWW-Authenticate and Retry-After headers that fit.
// For validation errors "detail" is a list of [FieldError]. The error's own
// text is never written. It is the default for [WithErrorHandler].
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	p := problemFor(err)
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(p.retryAfter, 10))
	}
	if p.dpopNonce != "" {
		w.Header().Set("DPoP-Nonce", p.dpopNonce)
	}
	var detail any = p.detail
	if p.status == http.StatusUnprocessableEntity {
		detail = fieldErrors(err)
	}
	if p.mfaToken != "" {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, p.status, mfaRequiredJSON{Detail: p.detail, Error: p.code, MFAToken: p.mfaToken})
		return
	}
	httpauth.WriteError(w, p.status, p.code, detail, p.challenge)
}

// fieldErrors returns the problems of a validation error, or the one entry
// FastAPI gives for a body that is not valid JSON.
func fieldErrors(err error) []FieldError {
	var verr *ValidationError
	if errors.As(err, &verr) {
		return verr.Problems
	}
	return []FieldError{{Loc: []string{"body"}, Msg: "JSON decode error", Type: "json_invalid"}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpauth.WriteJSON(w, status, v)
}

// mfaRequiredJSON is the answer to a right password when a second factor
// is needed, in the shape of Auth0's MFA API.
type mfaRequiredJSON struct {
	Detail   string `json:"detail"`
	Error    string `json:"error"`
	MFAToken string `json:"mfa_token"`
}
