package auth

import (
	"net/http"
)

// Paths of the email flows (issue 13), as fastapi-users names them.
const (
	pathRequestVerify   = "/auth/request-verify-token"
	pathVerify          = "/auth/verify"
	pathForgotPassword  = "/auth/forgot-password"
	pathResetPassword   = "/auth/reset-password"
	pathChangeEmail     = "/auth/change-email"
	pathMagicLink       = "/auth/magic-link"
	pathMagicLinkVerify = "/auth/magic-link/verify"
)

// flowError marks an error from a redeem endpoint, so that problemFor can
// give a bad token the detail that fastapi-users clients expect there.
type flowError struct {
	detail string // for ErrOneTimeTokenInvalid
	err    error
}

func (e flowError) Error() string { return e.err.Error() }
func (e flowError) Unwrap() error { return e.err }

// Details of a bad token, per endpoint.
const (
	detailVerifyBadToken = "VERIFY_USER_BAD_TOKEN"
	detailResetBadToken  = "RESET_PASSWORD_BAD_TOKEN"
	detailMagicBadToken  = "MAGIC_LINK_BAD_TOKEN"
)

// accepted answers a request for mail: 202 and a null body, whatever
// happens next.
func accepted(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusAccepted, nil)
}

// mailRequest serves the endpoints that take {email} and may send mail.
func (h *handler) mailRequest(send func(h *handler, r *http.Request, email string) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := readJSON(w, r, "email")
		if err != nil {
			return err
		}
		if err := f.require("email"); err != nil {
			return err
		}
		if err := send(h, r, f["email"]); err != nil {
			return err
		}
		accepted(w)
		return nil
	}
}

var (
	requestVerify = func(h *handler, r *http.Request, email string) error {
		return h.a.RequestVerification(r.Context(), email)
	}
	forgotPassword = func(h *handler, r *http.Request, email string) error {
		return h.a.ForgotPassword(r.Context(), email)
	}
	requestMagicLink = func(h *handler, r *http.Request, email string) error {
		return h.a.RequestMagicLink(r.Context(), email)
	}
)

// tokenOf reads the token of a redeem request.
func tokenOf(w http.ResponseWriter, r *http.Request, more ...string) (fields, error) {
	f, err := readJSON(w, r, append([]string{"token"}, more...)...)
	if err != nil {
		return nil, err
	}
	if err := f.require(append([]string{"token"}, more...)...); err != nil {
		return nil, err
	}
	return f, nil
}

func (h *handler) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	f, err := tokenOf(w, r)
	if err != nil {
		return err
	}
	u, err := h.a.VerifyEmail(r.Context(), f["token"])
	if err != nil {
		return flowError{detailVerifyBadToken, err}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, publicUser(u))
	return nil
}

func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request) error {
	f, err := tokenOf(w, r, "password")
	if err != nil {
		return err
	}
	if err := h.a.ResetPassword(r.Context(), f["token"], f["password"]); err != nil {
		return flowError{detailResetBadToken, err}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) changeEmail(w http.ResponseWriter, r *http.Request) error {
	// Authentication first: without a valid token the body is never read.
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	f, err := readRequiredJSON(w, r, "email", "password")
	if err != nil {
		return err
	}
	if err := h.a.ChangeEmail(r.Context(), v.user(), f["email"], f["password"]); err != nil {
		return err
	}
	accepted(w)
	return nil
}

func (h *handler) magicLinkVerify(w http.ResponseWriter, r *http.Request) error {
	f, err := tokenOf(w, r)
	if err != nil {
		return err
	}
	if r, err = h.tokenRequest(r); err != nil {
		return err
	}
	pair, err := h.a.LoginWithMagicLink(r.Context(), f["token"])
	if err != nil {
		return flowError{detailMagicBadToken, err}
	}
	h.writeTokens(w, pair)
	return nil
}

// emailRoutes adds the routes of the email flows to h.
func (h *handler) emailRoutes() {
	h.routes[pathRequestVerify] = route{http.MethodPost, h.mailRequest(requestVerify)}
	h.routes[pathVerify] = route{http.MethodPost, h.verifyEmail}
	h.routes[pathForgotPassword] = route{http.MethodPost, h.mailRequest(forgotPassword)}
	h.routes[pathResetPassword] = route{http.MethodPost, h.resetPassword}
	h.routes[pathChangeEmail] = route{http.MethodPost, h.changeEmail}
	if h.a.cfg.mail.magicLinks {
		h.routes[pathMagicLink] = route{http.MethodPost, h.mailRequest(requestMagicLink)}
		h.routes[pathMagicLinkVerify] = route{http.MethodPost, h.magicLinkVerify}
	}
}
