package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Plugin adds a feature with endpoints of its own to an Authenticator,
// such as passkeys (package passkey). It keeps heavy dependencies out of
// this package: an application that does not install the plug-in links
// none of its code.
//
// A plug-in talks to the Authenticator through its exported methods: it
// completes a login with [Authenticator.LoginVerified], satisfies the
// second factor of a password login with
// [Authenticator.VerifySecondFactor], guards sensitive actions with
// [Authenticator.StepUp], and keeps credentials in
// [Authenticator.CredentialStore].
type Plugin interface {
	// Install is called by New once the Authenticator is otherwise ready,
	// and returns the plug-in's endpoints. An error fails New and should
	// match [ErrInvalidConfig].
	Install(a *Authenticator) ([]Route, error)
}

// Route is one endpoint of a [Plugin], served by [Authenticator.Handler]
// and [Authenticator.CookieHandler] like the built-in ones.
type Route struct {
	// Method is the HTTP method; Path is under /auth/. A Path ending in
	// "/" also serves one more non-empty path segment (an ID), which
	// Serve reads from r.URL.Path.
	Method, Path string
	// Bearer requires a valid access token: the request reaches Serve or
	// Tokens only with one, and its user is in the context
	// ([UserFromContext], [AuthenticationFromContext]). An API key
	// ([WithAPIKeys]) is refused with [ErrAPIKeyNotAllowed], as by the
	// built-in endpoints that act on the account.
	Bearer bool
	// Serve answers the request, or returns an error, which is answered
	// as every error is ([WithErrorHandler]).
	Serve func(w http.ResponseWriter, r *http.Request) error
	// Tokens, set instead of Serve for an endpoint that logs in, returns
	// the token pair, which is written as the login endpoint writes it
	// (in cookie mode, the refresh token goes in its cookie).
	Tokens func(r *http.Request) (TokenPair, error)
}

// Now returns the current time on the Authenticator's clock ([WithClock]),
// in UTC to the microsecond as stores keep it, for plug-ins.
func (a *Authenticator) Now() time.Time {
	return a.now()
}

// CredentialStore returns the store's [CredentialStore] with the store
// timeout applied to every call ([WithStoreTimeout]), or nil when the
// store has none.
func (a *Authenticator) CredentialStore() CredentialStore {
	if a.creds == nil {
		return nil
	}
	return a.creds
}

// installPlugins calls each plug-in's Install and checks its routes.
func (a *Authenticator) installPlugins() error {
	for _, p := range a.cfg.mfa.plugins {
		routes, err := p.Install(a)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if !strings.HasPrefix(r.Path, "/auth/") || r.Method == "" || (r.Serve == nil) == (r.Tokens == nil) {
				return configErr(ErrInvalidConfig, "auth: plug-in route %s %s needs a path under /auth/, a method, and Serve or Tokens", r.Method, r.Path)
			}
		}
		a.pluginRoutes = append(a.pluginRoutes, routes...)
	}
	return nil
}

// addRoute adds a route to the handler's map; a path served already by
// other methods is served by all of them.
func (h *handler) addRoute(method, path string, serve func(http.ResponseWriter, *http.Request) error) {
	old, ok := h.routes[path]
	if !ok {
		h.routes[path] = route{method, serve}
		return
	}
	h.routes[path] = route{old.method + ", " + method, func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == method {
			return serve(w, r)
		}
		return old.serve(w, r)
	}}
}

// allows reports whether rt serves method.
func (rt route) allows(method string) bool {
	for _, m := range strings.Split(rt.method, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

// routePath returns the key of the route that serves path: path itself,
// or the prefix of a route that takes an ID segment; "" for a prefix
// without its ID.
func (h *handler) routePath(path string) string {
	if _, ok := h.routes[path]; ok && !strings.HasSuffix(path, "/") {
		return path
	}
	for p := range h.routes {
		if !strings.HasSuffix(p, "/") {
			continue
		}
		if id, ok := strings.CutPrefix(path, p); ok {
			if id != "" && !strings.Contains(id, "/") {
				return p
			}
			if id == "" {
				return ""
			}
		}
	}
	return path
}

// addPluginRoutes adds the plug-ins' endpoints.
func (h *handler) addPluginRoutes() {
	for _, rt := range h.a.pluginRoutes {
		h.addRoute(rt.Method, rt.Path, h.pluginServe(rt))
	}
}

func (h *handler) pluginServe(rt Route) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if rt.Bearer {
			uc, err := h.a.accountContext(r)
			if err != nil {
				return err
			}
			r = r.WithContext(uc)
		}
		if rt.Serve != nil {
			return rt.Serve(w, r)
		}
		r, err := h.tokenRequest(r)
		if err != nil {
			return err
		}
		pair, err := rt.Tokens(r)
		if err != nil {
			return err
		}
		h.writeTokens(w, pair)
		return nil
	}
}

// maxStateTTL bounds how long a plug-in's state token may live.
const maxStateTTL = 10 * time.Minute

// stateClaims is the payload of a state token.
type stateClaims struct {
	Purpose string `json:"p"`
	ID      string `json:"jti"`
	Expires int64  `json:"exp"`
	Data    []byte `json:"d"`
}

const statePrefix = "s1."

// IssueState returns a signed token that carries payload for purpose,
// valid for ttl (at most 10 minutes), for a plug-in to keep the state of a
// ceremony (such as a WebAuthn challenge) on the client rather than on
// one instance. The payload is signed, not encrypted: keep secrets out of
// it. Redeem it with [Authenticator.RedeemState].
func (a *Authenticator) IssueState(purpose string, payload []byte, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > maxStateTTL {
		return "", fmt.Errorf("auth: state TTL %v: want up to %v", ttl, maxStateTTL)
	}
	body, err := json.Marshal(stateClaims{Purpose: purpose, ID: uuid.NewString(), Expires: a.cfg.clock().Add(ttl).Unix(), Data: payload})
	if err != nil {
		return "", fmt.Errorf("auth: state: %w", err)
	}
	p := statePrefix + base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(a.stateMAC(p)), nil
}

func (a *Authenticator) stateMAC(p string) []byte {
	m := hmac.New(sha256.New, a.stateKey)
	m.Write([]byte(p))
	return m.Sum(nil)
}

// RedeemState checks a token from [Authenticator.IssueState] for the same
// purpose and spends it: it works once, across instances that share the
// [CredentialStore]. It returns an error wrapping [ErrInvalidToken] for a
// forged token or one of another purpose, [ErrTokenExpired] for an expired
// one, [ErrTokenInvalidated] for a spent one, and [ErrMFAUnsupported]
// without a CredentialStore.
func (a *Authenticator) RedeemState(ctx context.Context, purpose, token string) ([]byte, error) {
	cs, err := a.credentials()
	if err != nil {
		return nil, err
	}
	if len(token) > 64<<10 || !strings.HasPrefix(token, statePrefix) {
		return nil, ErrInvalidToken
	}
	i := strings.LastIndexByte(token, '.')
	if i <= len(statePrefix) {
		return nil, ErrInvalidToken
	}
	// Strict: a signature has one spelling, so a token has one too.
	sig, err := decodeSegment(token[i+1:])
	if err != nil || !hmac.Equal(sig, a.stateMAC(token[:i])) {
		return nil, ErrInvalidToken
	}
	body, err := decodeSegment(token[len(statePrefix):i])
	if err != nil {
		return nil, ErrInvalidToken
	}
	var c stateClaims
	if json.Unmarshal(body, &c) != nil || c.Purpose != purpose || c.ID == "" {
		return nil, ErrInvalidToken
	}
	if !a.cfg.clock().Before(time.Unix(c.Expires, 0)) {
		return nil, ErrTokenExpired
	}
	switch err := cs.UseNonce(ctx, c.ID, time.Unix(c.Expires, 0).UTC()); {
	case errors.Is(err, ErrConflict):
		return nil, ErrTokenInvalidated
	case err != nil:
		return nil, a.storeErr("spend state", err)
	}
	return c.Data, nil
}

// ReadJSON decodes a request's JSON body into v under the rules of the
// built-in endpoints, for plug-ins: Content-Type application/json, the
// same size limit, exactly one JSON value. Its errors answer 415, 413 and
// 422 as theirs do.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mediaType(r) != "application/json" {
		return errUnsupportedMedia
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooLarge):
			return err
		case errors.As(err, &typeErr):
			return &ValidationError{Problems: []FieldError{{Loc: []string{"body", typeErr.Field}, Msg: "Input has the wrong type", Type: "type_error"}}}
		}
		return errMalformedJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return errMalformedJSON
	}
	return nil
}
