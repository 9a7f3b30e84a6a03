package auth

import (
	"net/http"
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
)

// route is one endpoint: the method it accepts and what serves it.
type route struct {
	method string
	serve  func(http.ResponseWriter, *http.Request) error
}

// handler serves the endpoints. It routes itself rather than using a
// ServeMux so that unknown paths and wrong methods get JSON errors too.
type handler struct {
	a      *Authenticator
	routes map[string]route
}

// Handler returns the HTTP endpoints, under /auth/:
//
//	POST /auth/register         {username, password}         201 user
//	POST /auth/login            OAuth2 password or refresh_token grant, form or JSON
//	POST /auth/refresh          {refresh_token}              200 token pair
//	POST /auth/change-password  bearer; {current_password, new_password}  204
//	GET  /auth/me               bearer                       200 user
//
// Every error is JSON with "detail" and "error" members (see [WriteError]).
// To serve the endpoints under another prefix, strip it first:
//
//	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1", a.Handler()))
func (a *Authenticator) Handler() http.Handler {
	h := &handler{a: a}
	h.routes = map[string]route{
		pathRegister:       {http.MethodPost, h.register},
		pathLogin:          {http.MethodPost, h.login},
		pathRefresh:        {http.MethodPost, h.refresh},
		pathChangePassword: {http.MethodPost, h.changePassword},
		pathMe:             {http.MethodGet, h.me},
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := h.routes[r.URL.Path]
	if !ok {
		h.a.cfg.errorHandler(w, r, errNotFound)
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		h.a.cfg.errorHandler(w, r, errMethodNotAllowed)
		return
	}
	if _, ok := ClientAddrFromContext(r.Context()); !ok {
		if addr, ok := h.a.cfg.trustedProxy.clientAddr(r); ok {
			r = r.WithContext(ContextWithClientAddr(r.Context(), addr))
		}
	}
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
}

func publicUser(u *User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
}

func (h *handler) register(w http.ResponseWriter, r *http.Request) error {
	f, err := readJSON(w, r, "username", "password")
	if err != nil {
		return err
	}
	var verr ValidationError
	f.require(&verr, "username", "password")
	if err := verr.err(); err != nil {
		return err
	}
	u, err := h.a.Register(r.Context(), f["username"], f["password"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, publicUser(u))
	return nil
}

// login is the OAuth2 token endpoint (RFC 6749 sections 4.3 and 6). It takes
// a form body, as OAuth2 clients send, or JSON.
func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	want := []string{"grant_type", "username", "password", "refresh_token"}
	var f fields
	var err error
	if mediaType(r) == "application/json" {
		f, err = readJSON(w, r, want...)
	} else {
		f, err = readForm(w, r, want...)
	}
	if err != nil {
		return grantError{err}
	}
	var pair TokenPair
	var verr ValidationError
	switch f["grant_type"] {
	case "", "password":
		f.require(&verr, "username", "password")
		if err := verr.err(); err != nil {
			return grantError{err}
		}
		pair, err = h.a.Login(r.Context(), f["username"], f["password"])
	case "refresh_token":
		f.require(&verr, "refresh_token")
		if err := verr.err(); err != nil {
			return grantError{err}
		}
		pair, err = h.a.Refresh(r.Context(), f["refresh_token"])
	default:
		return grantError{errUnsupportedGrant}
	}
	if err != nil {
		return grantError{err}
	}
	writeTokens(w, pair)
	return nil
}

func (h *handler) refresh(w http.ResponseWriter, r *http.Request) error {
	f, err := readJSON(w, r, "refresh_token")
	if err != nil {
		return grantError{err}
	}
	var verr ValidationError
	f.require(&verr, "refresh_token")
	if err := verr.err(); err != nil {
		return grantError{err}
	}
	pair, err := h.a.Refresh(r.Context(), f["refresh_token"])
	if err != nil {
		return grantError{err}
	}
	writeTokens(w, pair)
	return nil
}

func writeTokens(w http.ResponseWriter, pair TokenPair) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, pair)
}

func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	// Authentication first: without a valid token the body is never read.
	u, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	f, err := readJSON(w, r, "current_password", "new_password")
	if err != nil {
		return err
	}
	var verr ValidationError
	f.require(&verr, "current_password", "new_password")
	if err := verr.err(); err != nil {
		return err
	}
	if err := h.a.ChangePassword(r.Context(), u, f["current_password"], f["new_password"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	u, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, publicUser(u))
	return nil
}

// bearerToken extracts the token from the one Authorization header. The
// scheme is matched case-insensitively (RFC 7235); the query string is never
// consulted. A missing header or another scheme is ErrNoToken; several
// headers, or a token that is empty, too long or contains spaces, is
// ErrInvalidToken.
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", ErrInvalidToken
	}
	v := vals[0]
	if len(v) > len("Bearer ")+maxTokenLength {
		return "", ErrInvalidToken
	}
	scheme, token, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	token = strings.Trim(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", ErrInvalidToken
	}
	return token, nil
}

// authenticateRequest returns the user of the request's bearer token.
func (a *Authenticator) authenticateRequest(r *http.Request) (*User, error) {
	token, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	return a.VerifyAccessToken(r.Context(), token)
}
