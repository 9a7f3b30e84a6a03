package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Paths served by [Authenticator.Handler].
const (
	pathRegister       = "/auth/register"
	pathLogin          = "/auth/login"
	pathRefresh        = "/auth/refresh"
	pathChangePassword = "/auth/change-password"
	pathMe             = "/auth/me"
	pathLogout         = "/auth/logout"
	pathLogoutAll      = "/auth/logout-all"
	pathSessions       = "/auth/sessions"
	pathOpenAPI        = "/auth/openapi.json"
	pathJWKS           = "/auth/.well-known/jwks.json"
	// pathSessionPrefix is followed by a session ID.
	pathSessionPrefix = "/auth/sessions/"
)

// jwksMaxAge is how long clients may cache the JWKS. It bounds how long a
// removed key is still trusted by verifiers that cached it, and they refetch
// early when they meet an unknown key ID, so a new key is picked up at once.
const jwksMaxAge = 10 * time.Minute

// route is one endpoint: the method it accepts and what serves it.
type route struct {
	method string // several: "POST, DELETE", as the Allow header lists them
	serve  func(http.ResponseWriter, *http.Request) error
}

// handler serves the endpoints. It routes itself rather than using a
// ServeMux so that unknown paths and wrong methods get JSON errors too.
type handler struct {
	a      *Authenticator
	routes map[string]route
	cookie bool // cookie mode: see CookieHandler
	// crossOrigin refuses cross-site browser requests in cookie mode.
	crossOrigin http.CrossOriginProtection
}

// Handler returns the HTTP endpoints, under /auth/:
//
//	POST /auth/register         {username, password}         201 user
//	POST /auth/login            OAuth2 password or refresh_token grant, form or JSON; device_token
//	POST /auth/refresh          {refresh_token}              200 token pair
//	POST /auth/change-password  bearer; {current_password, new_password}  204
//	GET  /auth/me               bearer                       200 user
//	POST /auth/logout           {refresh_token}              204
//	POST /auth/logout-all       bearer                       204
//	GET  /auth/sessions         bearer                       200 list of sessions
//	DELETE /auth/sessions/{id}  bearer                       204
//	POST /auth/request-verify-token  {email}                 202 (mail, if the address is an unverified user's)
//	POST /auth/verify           {token}                      200 user (email verified or changed)
//	POST /auth/forgot-password  {email}                      202 (mail, if the address is a user's)
//	POST /auth/reset-password   {token, password}            204
//	POST /auth/change-email     bearer; {email, password}    202 (mail to the new address)
//	POST /auth/magic-link       {email}                      202 (with WithMagicLinks)
//	POST /auth/magic-link/verify  {token}                    200 token pair (with WithMagicLinks)
//	GET  /auth/openapi.json                                  200 OpenAPI 3.1 document (see [OpenAPI])
//	GET  /auth/.well-known/jwks.json                         200 public keys (JWKS)
//
// The JWKS (RFC 7517) is served only when an asymmetric key (EdDSA, ES256,
// RS256) is configured, with public keys only; HMAC keys never appear in it.
// Other services verify tokens with it, see package verifier.
//
// Every error is JSON with "detail" and "error" members (see [WriteError]).
// To serve the endpoints under another prefix, strip it first:
//
//	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1", a.Handler()))
func (a *Authenticator) Handler() http.Handler {
	return a.newHandler(false)
}

func (a *Authenticator) newHandler(cookie bool) *handler {
	h := &handler{a: a, cookie: cookie}
	h.routes = map[string]route{
		pathRegister:       {http.MethodPost, h.register},
		pathLogin:          {http.MethodPost, h.login},
		pathRefresh:        {http.MethodPost, h.refresh},
		pathChangePassword: {http.MethodPost, h.changePassword},
		pathMe:             {http.MethodGet, h.me},
		pathLogout:         {http.MethodPost, h.logout},
		pathLogoutAll:      {http.MethodPost, h.logoutAll},
		pathSessions:       {http.MethodGet, h.listSessions},
		pathSessionPrefix:  {http.MethodDelete, h.revokeSession},
		pathOpenAPI:        {http.MethodGet, h.openAPI},
	}
	if a.jwks != nil {
		h.routes[pathJWKS] = route{http.MethodGet, h.serveJWKS}
	}
	h.addMFARoutes()
	h.addPluginRoutes()
	h.adminRoutes()
	h.emailRoutes()
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A prefix route (sessions/{id}, passkeys/{id}) needs its ID; admin
	// routes have more segments (admin.go).
	path := r.URL.Path
	if p, ok := adminPattern(path); ok {
		path = p
	} else {
		path = h.routePath(path)
	}
	rt, ok := h.routes[path]
	if !ok {
		var err error = errNotFound
		if !strings.HasPrefix(r.URL.Path, "/auth/") {
			err = &mountError{path: r.URL.Path}
		}
		h.a.cfg.errorHandler(w, r, err)
		return
	}
	if rt.method != "" && !rt.allows(r.Method) { // "": the route checks (admin.go)
		w.Header().Set("Allow", rt.method)
		h.a.cfg.errorHandler(w, r, errMethodNotAllowed)
		return
	}
	if h.cookie && h.crossOrigin.Check(r) != nil {
		// Cookie mode: a browser request from another site never gets to
		// set or use the refresh cookie (login CSRF included).
		h.a.cfg.errorHandler(w, r, errCrossOrigin)
		return
	}
	r = r.WithContext(h.clientContext(r))
	if err := rt.serve(w, r); err != nil {
		h.a.logFailure(r, err)
		h.a.cfg.errorHandler(w, r, err)
	}
}

// userJSON is the public view of a user: never the hash or the version.
type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	// Email flows (issue 13): null for no address.
	Email         *string `json:"email"`
	EmailVerified bool    `json:"email_verified"`
}

func publicUser(u *User) userJSON {
	j := userJSON{ID: u.ID, Username: u.Username, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC(), EmailVerified: u.EmailVerified}
	if u.Email != "" {
		j.Email = &u.Email
	}
	return j
}

func (h *handler) register(w http.ResponseWriter, r *http.Request) error {
	f, err := readJSON(w, r, "username", "password", "email")
	if err != nil {
		return err
	}
	if err := f.require("username", "password"); err != nil {
		return err
	}
	// Every registration that gets this far counts, whatever its outcome:
	// each one hashes a password.
	if err := h.a.throttle.register.take(r.Context()); err != nil {
		return err
	}
	u, err := h.a.RegisterWithEmail(r.Context(), f["username"], f["password"], f["email"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, publicUser(u))
	return nil
}

// login is the OAuth2 token endpoint (RFC 6749 sections 4.3 and 6). It takes
// a form body, as OAuth2 clients send, or JSON.
func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	want := []string{"grant_type", "username", "password", "refresh_token", "device_token"}
	var f fields
	var err error
	switch {
	case mediaType(r) == "application/json":
		f, err = readJSON(w, r, want...)
	case h.cookie:
		// Cookie mode takes JSON only: an HTML form on another site could
		// otherwise log the browser in to the attacker's account.
		err = errUnsupportedMedia
	default:
		f, err = readForm(w, r, want...)
	}
	if err != nil {
		return grantError{err}
	}
	var pair TokenPair
	switch f["grant_type"] {
	case "", "password":
		if err := f.require("username", "password"); err != nil {
			return grantError{err}
		}
		tr, terr := h.tokenRequest(r)
		if terr != nil {
			return terr
		}
		pair, err = h.a.Login(h.deviceContext(tr, f), f["username"], f["password"])
	case "refresh_token":
		if err := f.require("refresh_token"); err != nil {
			return grantError{err}
		}
		tr, terr := h.tokenRequest(r)
		if terr != nil {
			return terr
		}
		pair, err = h.a.Refresh(tr.Context(), f["refresh_token"])
	default:
		return grantError{errUnsupportedGrant}
	}
	if err != nil {
		return grantError{err}
	}
	h.writeTokens(w, pair)
	return nil
}

// refreshTokenOf returns the refresh token of a refresh or logout request:
// from the JSON body, or in cookie mode from the cookie when the body has
// none.
func (h *handler) refreshTokenOf(w http.ResponseWriter, r *http.Request) (string, error) {
	f, err := readJSON(w, r, "refresh_token")
	if err != nil {
		return "", err
	}
	if tok, ok := f["refresh_token"]; ok {
		return tok, nil
	}
	if h.cookie {
		if tok := h.refreshCookie(r); tok != "" {
			return tok, nil
		}
	}
	return "", f.require("refresh_token")
}

func (h *handler) refresh(w http.ResponseWriter, r *http.Request) error {
	tok, err := h.refreshTokenOf(w, r)
	if err != nil {
		return grantError{err}
	}
	tr, err := h.tokenRequest(r)
	if err != nil {
		return err
	}
	pair, err := h.a.Refresh(tr.Context(), tok)
	if err != nil {
		if h.cookie && problemFor(err).status == http.StatusUnauthorized {
			h.clearRefreshCookie(w) // dead for good; a 503 keeps it
		}
		return grantError{err}
	}
	h.writeTokens(w, pair)
	return nil
}

// deviceContext returns the request's context with the device token the
// client sent: the device_token field, or in cookie mode the device cookie
// when the body has none.
func (h *handler) deviceContext(r *http.Request, f fields) context.Context {
	tok, ok := f["device_token"]
	if !ok && h.cookie {
		tok = h.deviceCookie(r)
	}
	if tok == "" {
		return r.Context()
	}
	return ContextWithDeviceToken(r.Context(), tok)
}

// tokenRequest returns r with the context of a request at an endpoint that
// issues a token pair: with the thumbprint of its DPoP proof, when it has
// a valid one, so that the pair and the session are bound to that key (see
// [WithDPoP]). A bad proof, or none where one is required, is refused.
func (h *handler) tokenRequest(r *http.Request) (*http.Request, error) {
	ctx, err := h.a.dpopContext(r)
	if err != nil {
		return nil, grantError{err}
	}
	return r.WithContext(ctx), nil
}

func (h *handler) writeTokens(w http.ResponseWriter, pair TokenPair) {
	if h.cookie {
		h.setRefreshCookie(w, &pair)
		h.setDeviceCookie(w, &pair)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	h.a.dpopNonce(w)
	writeJSON(w, http.StatusOK, pair)
}

func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	// Authentication first: without a valid token the body is never read.
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	u := v.user()
	f, err := readJSON(w, r, "current_password", "new_password", "code")
	if err != nil {
		return err
	}
	if err := f.require("current_password", "new_password"); err != nil {
		return err
	}
	if err := h.a.StepUp(h.a.contextWith(r.Context(), v), f["code"]); err != nil {
		return err
	}
	if err := h.a.ChangePassword(r.Context(), u, f["current_password"], f["new_password"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) serveJWKS(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(jwksMaxAge/time.Second)))
	writeJSON(w, http.StatusOK, json.RawMessage(h.a.jwks))
	return nil
}

func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, publicUser(v.shared))
	return nil
}

// clientContext records the client's address, for the login throttle,
// and its user agent and address as shown in sessions and hooks. The
// address is the TCP peer's, or what a trusted proxy says (see
// [WithTrustedProxy]), unless the context carries a client already
// ([ContextWithClient]).
func (h *handler) clientContext(r *http.Request) context.Context {
	ctx := r.Context()
	if c, ok := ClientFromContext(ctx); ok {
		if c.UserAgent == "" {
			c.UserAgent = r.UserAgent()
		}
		return ContextWithClient(ctx, c)
	}
	if addr, ok := h.a.cfg.trustedProxy.clientAddr(r); ok {
		return ContextWithClient(ctx, Client{Addr: addr, UserAgent: r.UserAgent()})
	}
	// Not an IP peer (a Unix socket): nothing to throttle by, but the
	// session list still shows what the peer was.
	ip := ""
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip = host
	}
	return withClientInfo(ctx, netip.Addr{}, r.UserAgent(), ip)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	tok, err := h.refreshTokenOf(w, r)
	if h.cookie && errors.Is(err, ErrValidation) {
		// No token anywhere: the browser is logged out already.
		h.clearRefreshCookie(w)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	if h.cookie {
		h.clearRefreshCookie(w)
	}
	if err := h.a.Logout(r.Context(), tok); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) logoutAll(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	if err := h.a.LogoutAll(r.Context(), v.shared.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionJSON is the public view of a session: never a jti.
type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

func (h *handler) listSessions(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	list, err := h.a.Sessions(r.Context(), v.shared.ID)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, sessionJSON{
			ID: s.ID, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt,
			UserAgent: s.UserAgent, IP: s.IP, Current: s.ID == v.sessionID,
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) revokeSession(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	id := strings.TrimPrefix(r.URL.Path, pathSessionPrefix)
	if err := h.a.RevokeSession(r.Context(), v.shared.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
