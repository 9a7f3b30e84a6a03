// Package dpop is the client side of DPoP (RFC 9449): an
// [http.RoundTripper] that holds a private key and adds a proof of it to
// every request, so that the tokens a Gatehouse server issues to this
// client are bound to the key and useless to anyone who copies them.
//
// Wrap the transport of the client that talks to the token endpoint and to
// the protected resources. With golang.org/x/oauth2, put the DPoP client in
// the context given to the config, so that both token requests and
// resource requests carry proofs:
//
//	t, err := dpop.New(nil) // a fresh ES256 key
//	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: t})
//	tok, err := conf.PasswordCredentialsToken(ctx, user, pass) // token_type "DPoP"
//	client := conf.Client(ctx, tok) // sends "Authorization: DPoP ..." with proofs
//
// The key lives only in the Transport; a new one means new tokens.
package dpop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/auth/internal/jose"
	"github.com/google/uuid"
)

// Transport adds DPoP proofs to requests. Create one with [New]; it is safe
// for concurrent use.
//
// A request with "Authorization: DPoP <token>" gets a proof that carries
// the token's hash ("ath"), as protected resources require; any other
// request, such as one to a token endpoint, gets a proof without. The
// server nonce of each origin (a DPoP-Nonce response header) goes into the
// later proofs for that origin, and a request refused with
// "use_dpop_nonce" is sent again, once, with the new nonce.
type Transport struct {
	base  http.RoundTripper
	key   crypto.Signer
	alg   string
	jwk   map[string]string
	jkt   string
	clock func() time.Time

	mu     sync.Mutex
	nonces map[string]string // by origin
}

// Option configures a [Transport].
type Option func(*Transport)

// WithKey sets the private key that signs the proofs: an *ecdsa.PrivateKey
// on P-256 (ES256), an ed25519.PrivateKey (EdDSA), an *rsa.PrivateKey of
// 2048 to 4096 bits (RS256), or any crypto.Signer with such a public key,
// such as one in a hardware module. Defaults to a new ES256 key, made by New.
func WithKey(key crypto.Signer) Option { return func(t *Transport) { t.key = key } }

// WithClock sets the source of the proofs' "iat". Defaults to [time.Now].
func WithClock(now func() time.Time) Option { return func(t *Transport) { t.clock = now } }

// maxNonceBody bounds how much of an error response is read to look for
// "use_dpop_nonce".
const maxNonceBody = 64 << 10

// New returns a Transport that sends requests through base
// ([http.DefaultTransport] when nil). It fails for a key it cannot sign
// proofs with.
func New(base http.RoundTripper, opts ...Option) (*Transport, error) {
	t := &Transport{base: base, clock: time.Now, nonces: map[string]string{}}
	for _, opt := range opts {
		opt(t)
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.clock == nil {
		return nil, errors.New("dpop: clock is nil")
	}
	if t.key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dpop: generate key: %w", err)
		}
		t.key = k
	}
	switch pub := t.key.Public().(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, errors.New("dpop: an ECDSA key must be on P-256")
		}
		t.alg = jose.ES256
	case ed25519.PublicKey:
		t.alg = jose.EdDSA
	case *rsa.PublicKey:
		if n := pub.N.BitLen(); n < 2048 || n > 4096 {
			return nil, errors.New("dpop: an RSA key must have 2048 to 4096 bits")
		}
		t.alg = jose.RS256
	default:
		return nil, fmt.Errorf("dpop: unsupported key type %T", t.key.Public())
	}
	var err error
	if t.jwk, err = jose.PublicJWK(t.key.Public()); err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	if t.jkt, err = jose.Thumbprint(t.key.Public()); err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	return t, nil
}

// Thumbprint returns the RFC 7638 thumbprint of the key, as bound tokens
// carry it in "cnf": {"jkt": ...}.
func (t *Transport) Thumbprint() string { return t.jkt }

// Algorithm returns the proofs' "alg": ES256, EdDSA or RS256.
func (t *Transport) Algorithm() string { return t.alg }

// Proof returns a new proof for a request with the given method and URL
// (its query and fragment are left out), with the hash of accessToken
// unless that is "", and nonce unless that is "". RoundTrip calls it; it is
// exported for clients that set headers themselves.
func (t *Transport) Proof(method, url, accessToken, nonce string) (string, error) {
	htu, _, _ := strings.Cut(url, "#")
	htu, _, _ = strings.Cut(htu, "?")
	header, err := json.Marshal(map[string]any{"typ": jose.ProofType, "alg": t.alg, "jwk": t.jwk})
	if err != nil {
		return "", err
	}
	claims := map[string]any{"htm": method, "htu": htu, "iat": t.clock().Unix(), "jti": uuid.NewString()}
	if accessToken != "" {
		claims["ath"] = jose.TokenHash(accessToken)
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := t.sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("dpop: sign proof: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// sign signs a JWS signing input with the key, in the JWS encoding of the
// key's algorithm.
func (t *Transport) sign(input []byte) ([]byte, error) {
	if t.alg == jose.EdDSA {
		return t.key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	digest := sha256.Sum256(input)
	sig, err := t.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || t.alg != jose.ES256 {
		return sig, err
	}
	// ECDSA signers answer in ASN.1; JWS wants R || S, 32 bytes each.
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed ECDSA signature")
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// RoundTrip implements [http.RoundTripper]. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	resp, err := t.send(req, origin)
	if err != nil || !t.askedForNonce(resp) {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot send the body again
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return t.send(retry, origin)
}

// send sends one copy of req with a proof, and keeps the nonce of the
// answer.
func (t *Transport) send(req *http.Request, origin string) (*http.Response, error) {
	token := ""
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		token = strings.TrimSpace(tok)
	}
	t.mu.Lock()
	nonce := t.nonces[origin]
	t.mu.Unlock()
	proof, err := t.Proof(req.Method, req.URL.String(), token, nonce)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		t.mu.Lock()
		t.nonces[origin] = n
		t.mu.Unlock()
	}
	return resp, nil
}

// askedForNonce reports whether resp refuses a proof for lacking the
// server's nonce and gives one: a 401 whose challenge says so, or a 400
// whose JSON body does (RFC 9449 sections 8 and 9). The body it reads is
// put back.
func (t *Transport) askedForNonce(resp *http.Response) bool {
	if resp.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if strings.Contains(v, `error="use_dpop_nonce"`) {
				return true
			}
		}
	case http.StatusBadRequest:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxNonceBody))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		var e struct {
			Error string `json:"error"`
		}
		return err == nil && json.Unmarshal(body, &e) == nil && e.Error == "use_dpop_nonce"
	}
	return false
}
