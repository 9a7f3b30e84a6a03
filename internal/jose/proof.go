package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Bounds on DPoP proofs (RFC 9449). A proof is a small JWT; the largest
// legitimate one carries a 4096-bit RSA key in its header.
const (
	// MaxProofLength bounds a whole proof before any decoding.
	MaxProofLength = 4096
	// maxProofJWK bounds the "jwk" header member as it appears in the JSON.
	maxProofJWK = 1024
	// maxProofRSABits bounds an RSA proof key: larger keys cost more to
	// verify than any client needs.
	maxProofRSABits = 4096
	// maxProofString bounds "jti", "htm", "htu", "ath" and "nonce".
	maxProofString = 1024
)

// ProofType is the "typ" header of a DPoP proof.
const ProofType = "dpop+jwt"

// ErrInvalidProof is returned by [ParseProof] for any proof it refuses.
var ErrInvalidProof = errors.New("invalid DPoP proof")

// Proof is a DPoP proof whose signature verified against the key in its
// own header. Its claims are not checked against any request yet.
type Proof struct {
	// JKT is the RFC 7638 thumbprint of the header's "jwk".
	JKT string
	// Alg is the header's "alg".
	Alg string
	// HTM, HTU, JTI, ATH and Nonce are the claims of the same names;
	// ATH and Nonce are empty when absent.
	HTM, HTU, JTI, ATH, Nonce string
	// IssuedAt is "iat".
	IssuedAt time.Time
}

// proofAlgs are the asymmetric algorithms a proof may use.
var proofAlgs = map[string]jwt.SigningMethod{
	ES256: jwt.SigningMethodES256,
	EdDSA: jwt.SigningMethodEdDSA,
	RS256: jwt.SigningMethodRS256,
}

// ParseProof verifies a DPoP proof (RFC 9449 section 4.3, checks 1 to 6
// and the shape of 7): a compact JWS of three parts, "typ" dpop+jwt, an
// "alg" among algs (ES256, EdDSA and RS256 are known; "none" and the HMAC
// algorithms never are), a "jwk" header holding a public key of that
// algorithm and no private member, a signature that verifies with it, and
// "htm", "htu", "jti" and a numeric "iat". Header and payload must read
// one way only (no repeated member), and "crit" is refused.
func ParseProof(proof string, algs []string) (*Proof, error) {
	bad := func(why string) (*Proof, error) { return nil, fmt.Errorf("%w: %s", ErrInvalidProof, why) }
	if proof == "" || len(proof) > MaxProofLength {
		return bad("empty or too long")
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return bad("not a compact JWS")
	}
	hb, err := b64.Strict().DecodeString(parts[0])
	if err != nil {
		return bad("header is not base64url")
	}
	pb, err := b64.Strict().DecodeString(parts[1])
	if err != nil {
		return bad("payload is not base64url")
	}
	sig, err := b64.Strict().DecodeString(parts[2])
	if err != nil {
		return bad("signature is not base64url")
	}
	var h map[string]json.RawMessage
	if json.Unmarshal(hb, &h) != nil || !checkKeys(hb) {
		return bad("header is not a JSON object that reads one way")
	}
	if _, ok := h["crit"]; ok {
		return bad("crit header")
	}
	var typ, alg string
	if !str(h, "typ", &typ) || typ != ProofType {
		return bad("typ is not dpop+jwt")
	}
	if !str(h, "alg", &alg) {
		return bad("no alg")
	}
	method, ok := proofAlgs[alg]
	if !ok || !contains(algs, alg) {
		return bad("alg not allowed")
	}
	raw, ok := h["jwk"]
	if !ok {
		return bad("no jwk")
	}
	if len(raw) > maxProofJWK {
		return bad("jwk too large")
	}
	pub, err := ParsePublicJWK(raw)
	if err != nil {
		return bad(err.Error())
	}
	if keyAlg(pub) != alg {
		return bad("jwk does not fit alg")
	}
	if err := method.Verify(parts[0]+"."+parts[1], sig, pub); err != nil {
		return bad("signature does not verify")
	}
	jkt, err := Thumbprint(pub)
	if err != nil {
		return bad(err.Error())
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(pb, &p) != nil || !checkKeys(pb) {
		return bad("payload is not a JSON object that reads one way")
	}
	out := &Proof{JKT: jkt, Alg: alg}
	if !str(p, "htm", &out.HTM) || !str(p, "htu", &out.HTU) || !str(p, "jti", &out.JTI) ||
		out.HTM == "" || out.HTU == "" || out.JTI == "" {
		return bad("htm, htu or jti missing")
	}
	if _, ok := p["ath"]; ok && (!str(p, "ath", &out.ATH) || out.ATH == "") {
		return bad("ath is not a string")
	}
	if _, ok := p["nonce"]; ok && (!str(p, "nonce", &out.Nonce) || out.Nonce == "") {
		return bad("nonce is not a string")
	}
	var iat json.Number
	if r, ok := p["iat"]; !ok || json.Unmarshal(r, &iat) != nil {
		return bad("iat missing")
	}
	sec, err := iat.Int64()
	if err != nil || sec < 0 || sec > 1<<40 {
		return bad("iat is not an integer time")
	}
	out.IssuedAt = time.Unix(sec, 0)
	return out, nil
}

// str reads the string member name of m into dst, bounded in length.
func str(m map[string]json.RawMessage, name string, dst *string) bool {
	r, ok := m[name]
	if !ok || len(r) > maxProofString+2 {
		return false
	}
	return json.Unmarshal(r, dst) == nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// keyAlg returns the algorithm a public key is used with in a proof.
func keyAlg(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return ES256
	case ed25519.PublicKey:
		return EdDSA
	case *rsa.PublicKey:
		return RS256
	}
	return ""
}

// privateMembers are the JWK members that carry private or secret key
// material (RFC 7518 section 6, RFC 8037): a proof's key must have none.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParsePublicJWK reads one public JWK, as a DPoP proof carries it: kty EC
// with crv P-256, kty OKP with crv Ed25519, or kty RSA of 2048 to 4096 bits.
// A JWK holding any private member is refused, as is one that does not
// read one way.
func ParsePublicJWK(raw []byte) (crypto.PublicKey, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || !checkKeys(raw) {
		return nil, errors.New("jwk is not a JSON object that reads one way")
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, errors.New("jwk holds private key material")
		}
	}
	var j publicJWK
	if json.Unmarshal(raw, &j) != nil {
		return nil, errors.New("jwk is malformed")
	}
	if j.Kid == "" {
		j.Kid = "proof"
	}
	switch j.Kty {
	case "EC":
		j.Alg = ES256
	case "OKP":
		j.Alg = EdDSA
	case "RSA":
		n, err := b64.Strict().DecodeString(j.N)
		if err != nil || len(n) > maxProofRSABits/8 || (len(n) > 0 && n[0] == 0) {
			return nil, errors.New("jwk RSA modulus is malformed or too large")
		}
		j.Alg = RS256
	default:
		return nil, errors.New("jwk kty is not EC, OKP or RSA")
	}
	k, err := fromJWK(j)
	if err != nil {
		return nil, errors.New("jwk is not a usable public key")
	}
	return k.verify(), nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of a public key:
// base64url(SHA-256) of its required members in lexical order, without
// white space. It is what "cnf": {"jkt": ...} carries (RFC 9449 section 6).
func Thumbprint(pub crypto.PublicKey) (string, error) {
	var s string
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		p, err := k.Bytes()
		if err != nil || len(p) != 65 {
			return "", errors.New("thumbprint: not a P-256 key")
		}
		s = `{"crv":"P-256","kty":"EC","x":"` + b64.EncodeToString(p[1:33]) + `","y":"` + b64.EncodeToString(p[33:]) + `"}`
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", errors.New("thumbprint: bad Ed25519 key")
		}
		s = `{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(k) + `"}`
	case *rsa.PublicKey:
		s = `{"e":"` + b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()) + `","kty":"RSA","n":"` + b64.EncodeToString(k.N.Bytes()) + `"}`
	default:
		return "", errors.New("thumbprint: unsupported key type")
	}
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:]), nil
}

// PublicJWK returns the public JWK of a key, as a DPoP client puts it in
// its proofs' header: the required members only.
func PublicJWK(pub crypto.PublicKey) (map[string]string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		p, err := k.Bytes()
		if err != nil || len(p) != 65 {
			return nil, errors.New("jwk: not a P-256 key")
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(p[1:33]), "y": b64.EncodeToString(p[33:])}, nil
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k)}, nil
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	}
	return nil, errors.New("jwk: unsupported key type")
}

// TokenHash returns the "ath" of an access token: base64url(SHA-256) of
// its ASCII bytes (RFC 9449 section 4.2).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:])
}
