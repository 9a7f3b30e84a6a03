package auth

import (
	"net/http"
)

// Paths of the second-factor endpoints.
const (
	pathTOTP          = "/auth/mfa/totp"
	pathTOTPConfirm   = "/auth/mfa/totp/confirm"
	pathRecoveryCodes = "/auth/mfa/recovery-codes"
	pathMFAVerify     = "/auth/mfa/verify"
)

// addMFARoutes adds the TOTP and recovery-code endpoints:
//
//	POST   /auth/mfa/totp            bearer; {password}        200 {secret, otpauth_uri}
//	POST   /auth/mfa/totp/confirm    bearer; {code}            200 {recovery_codes}
//	DELETE /auth/mfa/totp            bearer; {password, code}  204
//	POST   /auth/mfa/recovery-codes  bearer; {code}            200 {recovery_codes}
//	POST   /auth/mfa/verify          {mfa_token, code}         200 token pair
func (h *handler) addMFARoutes() {
	h.addRoute(http.MethodPost, pathTOTP, h.enrollTOTP)
	h.addRoute(http.MethodDelete, pathTOTP, h.disableTOTP)
	h.addRoute(http.MethodPost, pathTOTPConfirm, h.confirmTOTP)
	h.addRoute(http.MethodPost, pathRecoveryCodes, h.regenerateCodes)
	h.addRoute(http.MethodPost, pathMFAVerify, h.verifyMFA)
}

// recoveryCodesJSON is the one time recovery codes are shown.
type recoveryCodesJSON struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (h *handler) enrollTOTP(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	f, err := readRequiredJSON(w, r, "password")
	if err != nil {
		return err
	}
	e, err := h.a.EnrollTOTP(r.Context(), v.user(), f["password"])
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (h *handler) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	f, err := readRequiredJSON(w, r, "code")
	if err != nil {
		return err
	}
	codes, err := h.a.ConfirmTOTP(r.Context(), v.user(), f["code"])
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, recoveryCodesJSON{codes})
	return nil
}

func (h *handler) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	f, err := readJSON(w, r, "password", "code")
	if err != nil {
		return err
	}
	if err := f.require("password"); err != nil {
		return err
	}
	if err := h.a.DisableTOTP(h.a.contextWith(r.Context(), v), v.user(), f["password"], f["code"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) regenerateCodes(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	f, err := readJSON(w, r, "code")
	if err != nil {
		return err
	}
	codes, err := h.a.RegenerateRecoveryCodes(h.a.contextWith(r.Context(), v), v.user(), f["code"])
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, recoveryCodesJSON{codes})
	return nil
}

// verifyMFA completes a login that answered mfa_required. Its errors are
// those of a token endpoint: a bad mfa_token is "invalid_grant".
func (h *handler) verifyMFA(w http.ResponseWriter, r *http.Request) error {
	f, err := readJSON(w, r, "mfa_token", "code")
	if err != nil {
		return grantError{err}
	}
	if err := f.require("mfa_token", "code"); err != nil {
		return grantError{err}
	}
	if r, err = h.tokenRequest(r); err != nil {
		return err
	}
	pair, err := h.a.VerifyMFA(r.Context(), f["mfa_token"], f["code"])
	if err != nil {
		return grantError{err}
	}
	h.writeTokens(w, pair)
	return nil
}
