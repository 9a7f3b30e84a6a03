// Package dpop holds what the root package and the verifier share about
// DPoP (RFC 9449) at the server: checking a proof against the request it
// came with, server nonces, the request's target URI as the client sees
// it, and the in-memory replay cache. Parsing and verifying the proof JWT
// itself is in package jose.
package dpop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

// Errors of [Checker.Check].
var (
	// ErrInvalid: the proof is malformed, forged, stale, replayed or for
	// another request.
	ErrInvalid = jose.ErrInvalidProof
	// ErrNonce: server nonces are on and the proof carries none, or a
	// stale one; the client should retry with the current nonce.
	ErrNonce = errors.New("DPoP proof needs the server's current nonce")
)

// ReplayCache remembers the proofs seen, so that each is used once. See
// the root package's DPoPReplayCache, which has the same method.
type ReplayCache interface {
	Use(ctx context.Context, key string, expires time.Time) (fresh bool, err error)
}

// Algorithms are the proof algorithms accepted, in the order the
// WWW-Authenticate "algs" parameter lists them.
var Algorithms = []string{jose.ES256, jose.EdDSA, jose.RS256}

// AlgsParam is the "algs" value of a DPoP challenge.
const AlgsParam = "ES256 EdDSA RS256"

// Checker checks proofs. Its fields are set once; it is safe for
// concurrent use.
type Checker struct {
	// Past is how old a proof's "iat" may be; Future how far ahead of the
	// clock it may be.
	Past, Future time.Duration
	Clock        func() time.Time
	Replay       ReplayCache
	// Nonces, when not nil, requires every proof to carry a current nonce.
	Nonces *Nonces
}

// Check verifies proof for a request with the given method and target URI
// (see [RequestURI]), and for accessToken at a protected resource ("" at a
// token endpoint, where a proof must carry no "ath"), and made with the key
// whose thumbprint is jkt when jkt is not "". The proof's "jti" is
// recorded in the replay cache only once every other check passed. It
// returns an error wrapping [ErrInvalid] or [ErrNonce], or the replay
// cache's error.
func (c *Checker) Check(ctx context.Context, proof, method, uri, accessToken, jkt string) (*jose.Proof, error) {
	p, err := jose.ParseProof(proof, Algorithms)
	if err != nil {
		return nil, err
	}
	bad := func(why string) (*jose.Proof, error) { return nil, fmt.Errorf("%w: %s", ErrInvalid, why) }
	if jkt != "" && p.JKT != jkt {
		return bad("proof is made with another key than the token is bound to")
	}
	if p.HTM != method {
		return bad("htm is not the request's method")
	}
	if !MatchURI(p.HTU, uri) {
		return bad("htu is not the request's URI")
	}
	now := c.Clock()
	if p.IssuedAt.Before(now.Add(-c.Past)) {
		return bad("iat is too old")
	}
	if p.IssuedAt.After(now.Add(c.Future)) {
		return bad("iat is in the future")
	}
	switch {
	case accessToken == "" && p.ATH != "":
		return bad("ath at a token endpoint")
	case accessToken != "" && p.ATH != jose.TokenHash(accessToken):
		return bad("ath is not the access token's hash")
	}
	if c.Nonces != nil && !c.Nonces.Valid(p.Nonce) {
		return nil, ErrNonce
	}
	fresh, err := c.Replay.Use(ctx, ReplayKey(p.JKT, p.JTI), p.IssuedAt.Add(c.Past))
	if err != nil {
		return nil, fmt.Errorf("DPoP replay cache: %w", err)
	}
	if !fresh {
		return bad("jti was used before")
	}
	return p, nil
}

// ReplayKey is the replay cache's key for a proof: fixed-length, so that
// a long "jti" cannot grow the cache, and per key, since "jti" values are
// unique only per client.
func ReplayKey(jkt, jti string) string {
	sum := sha256.Sum256([]byte(jkt + "\x00" + jti))
	return "dpop:" + base64.RawURLEncoding.EncodeToString(sum[:])
}
