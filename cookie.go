package auth

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// CookieOptions configure cookie mode, served by
// [Authenticator.CookieHandler]: the refresh token travels in a cookie that
// page scripts cannot read, instead of in JSON bodies, and the access token
// lives only in the page's memory.
//
// Why this resists CSRF: the cookie is HttpOnly, Secure and
// SameSite=Strict, so browsers send it only with requests that start on
// the same site, never from another site's link, form or script. It is
// scoped to the refresh and logout endpoints alone, so it never rides along
// with other requests. Every endpoint of the cookie handler, login
// included, accepts only application/json bodies, which a cross-site HTML
// form cannot send and cross-site scripts can only send after a CORS
// preflight the server does not grant; and it refuses browser requests
// that announce another origin (Sec-Fetch-Site, Origin; see
// [http.CrossOriginProtection]) with 403. That also stops login CSRF, where
// another site would log the browser in to the attacker's account. What
// refresh returns, a new access token, is readable only by same-origin
// scripts. The application must still protect its own cookie-authenticated
// endpoints, if it has any; Gatehouse's access tokens travel in the
// Authorization header, which browsers never add on their own.
type CookieOptions struct {
	// Name is the cookie's name. Defaults to "gatehouse_refresh".
	Name string
	// Path is the path under which the cookie handler is mounted, as the
	// browser sees it: the cookie is set for Path+"/refresh" and
	// Path+"/logout" only. Defaults to "/auth"; set it to "/api/auth" when
	// mounting with http.StripPrefix("/api", a.CookieHandler()).
	Path string
	// Domain is the cookie's Domain attribute. Defaults to none: the cookie
	// goes to the host that set it only, which is what you want unless
	// several subdomains share the API.
	Domain string
}

// WithRefreshCookie configures cookie mode for [Authenticator.CookieHandler].
// Defaults to CookieOptions{} (name "gatehouse_refresh", path "/auth").
// New rejects a name or path that is not valid in a cookie.
func WithRefreshCookie(o CookieOptions) Option { return func(c *config) { c.cookie = o } }

const defaultCookieName = "gatehouse_refresh"

func (o *CookieOptions) validate() error {
	if o.Name == "" {
		o.Name = defaultCookieName
	}
	if o.Path == "" {
		o.Path = "/auth"
	}
	o.Path = strings.TrimSuffix(o.Path, "/")
	probe := http.Cookie{Name: o.Name, Value: "x", Path: o.Path + "/refresh", Domain: o.Domain}
	if !strings.HasPrefix(o.Path, "/") || probe.Valid() != nil {
		return errors.New("auth: invalid refresh cookie name, path or domain")
	}
	return nil
}

// cookiePaths are the only paths the refresh cookie is sent to.
func (o *CookieOptions) cookiePaths() [2]string {
	return [2]string{o.Path + "/refresh", o.Path + "/logout"}
}

// setRefreshCookie stores the refresh token of pair in the browser until
// the token expires, and removes it from the JSON body.
func (h *handler) setRefreshCookie(w http.ResponseWriter, pair *TokenPair) {
	o := &h.a.cfg.cookie
	maxAge := max(1, int(pair.refreshExpires.Sub(h.a.cfg.clock())/time.Second))
	for _, p := range o.cookiePaths() {
		http.SetCookie(w, &http.Cookie{
			Name: o.Name, Value: pair.RefreshToken, Path: p, Domain: o.Domain,
			MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
		})
	}
	pair.RefreshToken = ""
}

// clearRefreshCookie deletes the cookie at both paths.
func (h *handler) clearRefreshCookie(w http.ResponseWriter) {
	o := &h.a.cfg.cookie
	for _, p := range o.cookiePaths() {
		http.SetCookie(w, &http.Cookie{
			Name: o.Name, Value: "", Path: p, Domain: o.Domain,
			MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
		})
	}
}

// refreshCookie returns the refresh token the browser sent, or "".
func (h *handler) refreshCookie(r *http.Request) string {
	c, err := r.Cookie(h.a.cfg.cookie.Name)
	if err != nil {
		return ""
	}
	return c.Value
}

// CookieHandler serves the same endpoints as [Authenticator.Handler] in
// cookie mode, for browser apps (see [CookieOptions] and
// [WithRefreshCookie]):
//
//   - login takes JSON only, and cross-origin browser requests are refused
//     with 403;
//   - login and refresh set the refresh token as an HttpOnly, Secure,
//     SameSite=Strict cookie scoped to the refresh and logout paths, and
//     leave refresh_token out of the JSON body;
//   - refresh and logout take the token from that cookie when the JSON body
//     has none (send "{}" with Content-Type application/json); logout
//     deletes the cookie.
//
// Everything else is as in Handler. An application may mount both, on
// different prefixes, for API clients and for its own pages.
func (a *Authenticator) CookieHandler() http.Handler {
	return a.newHandler(true)
}
