package auth

import (
	"net/http"
	"time"
)

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

// setDeviceCookie stores the device token of pair, if any, in the browser
// for as long as it is valid, and removes it from the JSON body. It goes
// to every path, as a __Host- cookie must, but only the login endpoint
// reads it.
func (h *handler) setDeviceCookie(w http.ResponseWriter, pair *TokenPair) {
	if pair.DeviceToken == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookieName, Value: pair.DeviceToken, Path: "/",
		MaxAge: int(h.a.throttle.devices.ttl / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	pair.DeviceToken = ""
}

// deviceCookie returns the device token the browser sent, or "".
func (h *handler) deviceCookie(r *http.Request) string {
	c, err := r.Cookie(deviceCookieName)
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
//     deletes the cookie;
//   - login sets the device token (see [ContextWithDeviceToken]) as the
//     cookie __Host-gatehouse_device (HttpOnly, Secure, SameSite=Strict,
//     Path=/, for as long as the token is valid) and leaves device_token
//     out of the JSON body; login reads it back from that cookie when the
//     body has none. Logout leaves it: it proves the browser logged in
//     before, not that it is logged in now.
//
// Everything else is as in Handler. An application may mount both, on
// different prefixes, for API clients and for its own pages.
func (a *Authenticator) CookieHandler() http.Handler {
	return a.newHandler(true)
}
