package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"log/slog"
	"math/big"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// API keys look like "gh_" followed by 40 base62 characters of randomness
// (238 bits) and 6 base62 characters of CRC32 over the rest, as GitHub's
// tokens do: the prefix lets secret scanners find leaked keys, and the
// checksum lets a typo or a made-up key be refused without a look-up.
const (
	apiKeyPrefix    = "gh_"
	apiKeyRandomLen = 40
	apiKeyCheckLen  = 6
	apiKeyLen       = len(apiKeyPrefix) + apiKeyRandomLen + apiKeyCheckLen
	base62          = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Built-in scopes, which every key may be given besides the application's.
const (
	// ScopeIntrospect lets a key call POST /auth/introspect (RFC 7662).
	ScopeIntrospect = "introspect"
)

// Limits on API keys.
const (
	maxKeysPerUser   = 100
	maxKeyNameLen    = 100
	maxKeyTTL        = 5 * 366 * 24 * time.Hour
	keyTouchInterval = time.Minute
)

// encodeBase62 writes n as exactly width base62 digits.
func encodeBase62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b)
}

func keyChecksum(body string) string {
	return encodeBase62(uint64(crc32.ChecksumIEEE([]byte(body))), apiKeyCheckLen)
}

// newAPIKeySecret returns a new random key.
func newAPIKeySecret() (string, error) {
	var b strings.Builder
	b.WriteString(apiKeyPrefix)
	max := big.NewInt(62)
	for range apiKeyRandomLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(base62[n.Int64()])
	}
	body := b.String()
	return body + keyChecksum(body), nil
}

// isAPIKey reports whether a bearer token is meant as an API key.
func isAPIKey(token string) bool { return strings.HasPrefix(token, apiKeyPrefix) }

// wellFormedKey reports whether s has the form and checksum of a key.
func wellFormedKey(s string) bool {
	if len(s) != apiKeyLen || !isAPIKey(s) {
		return false
	}
	for i := len(apiKeyPrefix); i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	body := s[:len(s)-apiKeyCheckLen]
	return hmac.Equal([]byte(keyChecksum(body)), []byte(s[len(body):]))
}

// hashKey is what the store keeps of a key: HMAC-SHA256 under the hash
// key, hex-encoded. Keys are random, so a fast hash is enough; the key
// makes a stolen table useless for checking candidates offline.
func (a *Authenticator) hashKey(key string) string {
	m := hmac.New(sha256.New, a.adm.hashKey)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// apiKeyAuth is what the context carries about the key of a request.
type apiKeyAuth struct {
	key APIKey // read-only: shared with the cache
}

// keyEntry is a key as read from the store at fetched; touched is when
// this instance last wrote its LastUsedAt.
type keyEntry struct {
	auth    apiKeyAuth
	fetched time.Time
	touched time.Time
}

// keyStore returns the key store, or ErrAPIKeysUnsupported.
func (a *Authenticator) keyStore() (APIKeyStore, error) {
	if a.adm.keys == nil {
		return nil, ErrAPIKeysUnsupported
	}
	return a.adm.keys, nil
}

// CreateAPIKey makes a new API key for a user and returns its record and
// the key itself, which is shown once and never stored. Scopes are 1 to
// 64 letters, digits and ':._-', at most 16, such as [ScopeIntrospect]; a
// ttl of 0 makes a key that never expires, and otherwise it must be
// between a minute and five years. A user has at most 100 live keys. The
// key stops working when it is revoked or expires, and when the user's
// token version changes (a password change, disabling, logout-all, losing
// a role). It returns [ErrAPIKeysUnsupported] without [WithAPIKeys].
func (a *Authenticator) CreateAPIKey(ctx context.Context, userID, name string, scopes []string, ttl time.Duration) (*APIKey, string, error) {
	ks, err := a.keyStore()
	if err != nil {
		return nil, "", err
	}
	var verr ValidationError
	if name == "" || utf8.RuneCountInString(name) > maxKeyNameLen || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		verr.add("name", "string_invalid", "Name must be 1 to 100 characters without control characters")
	}
	if ttl != 0 && (ttl < time.Minute || ttl > maxKeyTTL) {
		verr.add("expires_in", "out_of_range", "expires_in must be between 60 seconds and 5 years")
	}
	set, serr := nameSet("scopes", scopes)
	if serr != nil {
		var v *ValidationError
		errors.As(serr, &v)
		verr.Problems = append(verr.Problems, v.Problems...)
	}
	if err := verr.err(); err != nil {
		return nil, "", err
	}
	u, err := a.store.UserByID(ctx, userID)
	if err != nil {
		return nil, "", a.storeErr("look up user", err)
	}
	if u.Disabled {
		return nil, "", ErrUserDisabled
	}
	live, err := ks.UserAPIKeys(ctx, userID)
	if err != nil {
		return nil, "", a.storeErr("list API keys", err)
	}
	if len(live) >= maxKeysPerUser {
		verr.add("name", "too_many", "Too many API keys; revoke one first")
		return nil, "", &verr
	}
	secret, err := newAPIKeySecret()
	if err != nil {
		return nil, "", err
	}
	now := a.now()
	k := &APIKey{
		ID: uuid.NewString(), UserID: u.ID, Name: name, Hash: a.hashKey(secret), Scopes: set,
		TokenVersion: u.TokenVersion, CreatedAt: now,
	}
	if ttl != 0 {
		k.ExpiresAt = now.Add(ttl)
	}
	if err := ks.CreateAPIKey(ctx, k); err != nil {
		return nil, "", a.storeErr("create API key", err)
	}
	a.record(ctx, auditKeyCreated, u.ID, map[string]any{"key_id": k.ID, "name": k.Name, "scopes": orEmpty(k.Scopes)})
	return k, secret, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// APIKeys returns the user's keys that are not revoked, expired ones
// included, oldest first. It returns [ErrAPIKeysUnsupported] without
// [WithAPIKeys].
func (a *Authenticator) APIKeys(ctx context.Context, userID string) ([]*APIKey, error) {
	ks, err := a.keyStore()
	if err != nil {
		return nil, err
	}
	list, err := ks.UserAPIKeys(ctx, userID)
	if err != nil {
		return nil, a.storeErr("list API keys", err)
	}
	return list, nil
}

// RevokeAPIKey revokes one of the user's own keys. It returns an error
// wrapping [ErrAPIKeyNotFound] when the user has no live key with that ID,
// including when the ID belongs to someone else. The key stops working at
// once on this Authenticator and within [WithUserCacheTTL] on others.
func (a *Authenticator) RevokeAPIKey(ctx context.Context, userID, keyID string) error {
	ks, err := a.keyStore()
	if err != nil {
		return err
	}
	k, err := ks.APIKey(ctx, keyID)
	if errors.Is(err, ErrAPIKeyNotFound) {
		return ErrAPIKeyNotFound
	}
	if err != nil {
		return a.storeErr("look up API key", err)
	}
	if k.UserID != userID || !k.RevokedAt.IsZero() {
		return ErrAPIKeyNotFound
	}
	return a.revokeKey(ctx, k)
}

// revokeKey revokes k, remembers it as ended and records it.
func (a *Authenticator) revokeKey(ctx context.Context, k *APIKey) error {
	if err := a.adm.keys.RevokeAPIKey(ctx, k.ID, a.now()); err != nil {
		return a.storeErr("revoke API key", err)
	}
	a.adm.keyEnded.Put(k.ID, true)
	a.record(ctx, auditKeyRevoked, k.UserID, map[string]any{"key_id": k.ID, "name": k.Name})
	return nil
}

// verifyAPIKey checks an API key and returns a context that carries its
// user and the key. An unknown or malformed key is charged to the client's
// address; past its budget the answer is 429 without a look-up.
// r, when not nil, is the request, whose client address counts when the
// context records none; it is read only when the key is not cached.
func (a *Authenticator) verifyAPIKey(ctx context.Context, r *http.Request, token string) (*userContext, error) {
	now := a.cfg.clock()
	e, ok := a.adm.keyCache.Get(token)
	if !ok || now.Sub(e.fetched) >= a.cfg.userCacheTTL {
		var err error
		if e, err = a.lookUpKey(ctx, a.keyClient(ctx, r), token, now); err != nil {
			return nil, err
		}
	}
	k := &e.auth.key
	if _, ended := a.adm.keyEnded.Get(k.ID); ended || !k.RevokedAt.IsZero() {
		return nil, ErrTokenInvalidated
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	uc := &userContext{Context: ctx, v: authenticated{key: &e.auth}}
	var err error
	if uc.v.shared, err = a.activeUser(ctx, k.UserID, k.TokenVersion, now); err != nil {
		return nil, err
	}
	if now.Sub(e.touched) >= keyTouchInterval && now.Sub(k.LastUsedAt) >= keyTouchInterval {
		a.touchKey(ctx, token, e, now)
	}
	return uc, nil
}

// lookUpKey reads a key from the store, under the budget of the client
// address addr.
func (a *Authenticator) lookUpKey(ctx context.Context, addr netip.Addr, token string, now time.Time) (*keyEntry, error) {
	budgetKey := ""
	if addr.IsValid() && a.adm.keyBudget != nil {
		budgetKey = a.throttle.keys.key("api_key", addrKey(addr))
		wait, err := a.adm.keyBudget.Check(ctx, budgetKey)
		if err != nil {
			return nil, joinErr(ErrUnavailable, err)
		}
		if wait > 0 {
			return nil, &ThrottledError{RetryAfter: wait, Budget: "api_key"}
		}
	}
	fail := func() (*keyEntry, error) {
		if budgetKey != "" {
			if err := a.adm.keyBudget.Charge(context.WithoutCancel(ctx), budgetKey); err != nil {
				a.eventLog().LogAttrs(ctx, slog.LevelWarn, "auth: API key limiter update failed", slog.String("error", err.Error()))
			}
		}
		return nil, ErrInvalidToken
	}
	if !wellFormedKey(token) {
		return fail()
	}
	k, err := a.adm.keys.APIKeyByHash(ctx, a.hashKey(token))
	if errors.Is(err, ErrAPIKeyNotFound) {
		a.adm.keyCache.Remove(token)
		return fail()
	}
	if err != nil {
		return nil, a.storeErr("look up API key", err)
	}
	e := &keyEntry{auth: apiKeyAuth{key: *k}, fetched: now, touched: k.LastUsedAt}
	if old, ok := a.adm.keyCache.Get(token); ok && old.touched.After(e.touched) {
		e.touched = old.touched
	}
	a.adm.keyCache.Put(token, e)
	return e, nil
}

// touchKey records that the key was used, at most once a minute per key
// and instance. A failure is logged: the request itself is fine.
func (a *Authenticator) touchKey(ctx context.Context, token string, e *keyEntry, now time.Time) {
	next := *e
	next.touched = now
	a.adm.keyCache.Put(token, &next)
	at := now.UTC().Truncate(time.Microsecond)
	if err := a.adm.keys.TouchAPIKey(context.WithoutCancel(ctx), e.auth.key.ID, at); err != nil {
		a.failureLog().LogAttrs(ctx, slog.LevelWarn, "auth: recording API key use failed",
			slog.String("key_id", e.auth.key.ID), slog.String("error", err.Error()))
	}
}

// APIKeyFromContext returns the API key that authenticated the request,
// as [Authenticator.Middleware] put it in the context: the caller's own
// copy, without its hash. ok is false when the request was authenticated
// otherwise, or not at all.
func APIKeyFromContext(ctx context.Context) (k *APIKey, ok bool) {
	v, _ := ctx.Value(userKey{}).(*authenticated)
	if v == nil || v.key == nil {
		return nil, false
	}
	c := v.key.key
	c.Hash = ""
	c.Scopes = slices.Clone(c.Scopes)
	return &c, true
}

// RequireScope returns middleware that lets a request authenticated with
// an API key through only when the key holds every one of scopes;
// otherwise the error handler answers 403 with "insufficient_scope" (401
// without a user). A request authenticated with an access token acts with
// all of its user's authority and passes: scopes narrow what a key may do.
func (a *Authenticator) RequireScope(scopes ...string) func(http.Handler) http.Handler {
	want := slices.Clone(scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, _ := r.Context().Value(userKey{}).(*authenticated)
			switch {
			case v == nil:
				a.cfg.errorHandler(w, r, ErrNoToken)
			case v.key != nil && !hasScopes(v.key.key.Scopes, want):
				a.cfg.errorHandler(w, r, ErrInsufficientScope)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// hasScopes reports whether the sorted set have holds every one of want.
func hasScopes(have, want []string) bool {
	for _, s := range want {
		if _, ok := slices.BinarySearch(have, s); !ok {
			return false
		}
	}
	return true
}

// keyClient returns the client address a key is charged to: the
// context's, as the handlers and ContextWithClient record it, or else the
// request's (see WithTrustedProxy).
func (a *Authenticator) keyClient(ctx context.Context, r *http.Request) netip.Addr {
	if addr := clientOf(ctx).addr; addr.IsValid() || r == nil {
		return addr
	}
	addr, _ := a.cfg.trustedProxy.clientAddr(r)
	return addr
}

// apiKeyJSON is a key as its owner sees it: never the key or its hash.
type apiKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Key        string     `json:"key,omitempty"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func publicKey(k *APIKey) apiKeyJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	return apiKeyJSON{ID: k.ID, Name: k.Name, Scopes: orEmpty(k.Scopes), CreatedAt: k.CreatedAt.UTC(),
		ExpiresAt: opt(k.ExpiresAt), LastUsedAt: opt(k.LastUsedAt)}
}

func (h *handler) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	var name *string
	var scopes *[]string
	var expiresIn *int64
	if err := readObject(w, r, map[string]any{"name": &name, "scopes": &scopes, "expires_in": &expiresIn}); err != nil {
		return err
	}
	var verr ValidationError
	if name == nil {
		verr.add("name", "missing", "Field required")
	}
	if scopes == nil {
		verr.add("scopes", "missing", "Field required")
	}
	var ttl time.Duration
	if expiresIn != nil {
		if *expiresIn < 60 || *expiresIn > int64(maxKeyTTL/time.Second) {
			verr.add("expires_in", "out_of_range", "expires_in must be between 60 seconds and 5 years")
		} else {
			ttl = time.Duration(*expiresIn) * time.Second
		}
	}
	if err := verr.err(); err != nil {
		return err
	}
	ctx := v.into(r.Context())
	k, secret, err := h.a.CreateAPIKey(ctx, v.shared.ID, *name, *scopes, ttl)
	if err != nil {
		return err
	}
	out := publicKey(k)
	out.Key = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	list, err := h.a.APIKeys(r.Context(), v.shared.ID)
	if err != nil {
		return err
	}
	out := make([]apiKeyJSON, 0, len(list))
	for _, k := range list {
		out = append(out, publicKey(k))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	v, err := h.a.authenticateRequest(r)
	if err != nil {
		return err
	}
	ctx := v.into(r.Context())
	if err := h.a.RevokeAPIKey(ctx, v.shared.ID, pathID(r, pathAPIKeys+"/")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
