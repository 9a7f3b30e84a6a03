// Package softauthn is a software WebAuthn authenticator for tests: it
// makes credentials (ES256 or EdDSA) and answers registration and login
// ceremonies with attestation "none", building authenticatorData,
// clientDataJSON and the attestation object itself, so that tests can
// drive full ceremonies against a relying party, and break them on
// purpose (another origin, another RP ID, a counter going back).
package softauthn

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Algorithm is a COSE algorithm the authenticator can use.
type Algorithm int

// The algorithms of the software authenticator.
const (
	ES256 Algorithm = -7
	EdDSA Algorithm = -8
)

// Flags of authenticatorData.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator holds one credential.
type Authenticator struct {
	// Alg is the algorithm of the credential's key.
	Alg Algorithm
	// Origin is what clientDataJSON says; RPID what rpIdHash hashes.
	Origin, RPID string
	// Counter is the signature counter; each assertion increments it
	// first. Set it back to act as a clone.
	Counter uint32
	// BackupEligible and BackupState set the BE and BS flags.
	BackupEligible, BackupState bool
	// CredentialID is made by the first Register; a later Register
	// offers the same credential again. UserHandle is set by Register.
	CredentialID, UserHandle []byte

	ec *ecdsa.PrivateKey
	ed ed25519.PrivateKey
}

// New returns an authenticator with a new key of alg.
func New(alg Algorithm, rpID, origin string) (*Authenticator, error) {
	a := &Authenticator{Alg: alg, RPID: rpID, Origin: origin}
	var err error
	switch alg {
	case ES256:
		a.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, a.ed, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("softauthn: algorithm %d", alg)
	}
	return a, err
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// coseKey is the credential public key in COSE form.
func (a *Authenticator) coseKey() ([]byte, error) {
	if a.Alg == EdDSA {
		return cbor.Marshal(map[int]any{1: 1, 3: -8, -1: 6, -2: []byte(a.ed.Public().(ed25519.PublicKey))})
	}
	pub, err := a.ec.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	return cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
}

func (a *Authenticator) flags() byte {
	f := byte(flagUP | flagUV)
	if a.BackupEligible {
		f |= flagBE
	}
	if a.BackupState {
		f |= flagBS
	}
	return f
}

func (a *Authenticator) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(a.RPID))
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, a.Counter)
	return append(out, attested...)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// options is the part of the relying party's options that the
// authenticator reads: {"publicKey": {"challenge", "user": {"id"}}}.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func challengeOf(optionsJSON []byte) (*options, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, err
	}
	if o.PublicKey.Challenge == "" {
		return nil, errors.New("softauthn: no challenge in the options")
	}
	return &o, nil
}

// Register answers creation options (the JSON a relying party sends to
// navigator.credentials.create) with a new credential, as the JSON a
// browser would post back.
func (a *Authenticator) Register(optionsJSON []byte) ([]byte, error) {
	o, err := challengeOf(optionsJSON)
	if err != nil {
		return nil, err
	}
	if a.UserHandle, err = base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID); err != nil {
		return nil, fmt.Errorf("softauthn: user.id: %w", err)
	}
	if a.CredentialID == nil {
		a.CredentialID = make([]byte, 32)
		if _, err := rand.Read(a.CredentialID); err != nil {
			return nil, err
		}
	}
	key, err := a.coseKey()
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 16) // AAGUID: zero, as attestation "none" allows
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.CredentialID)))
	attested = append(attested, a.CredentialID...)
	attested = append(attested, key...)
	att, err := cbor.Marshal(map[string]any{
		"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(a.flags()|flagAT, attested),
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64(a.CredentialID), "rawId": b64(a.CredentialID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Login answers request options with an assertion signed by the
// credential, the counter incremented first. userHandle is what the
// response says (nil leaves it out).
func (a *Authenticator) Login(optionsJSON []byte, userHandle []byte) ([]byte, error) {
	o, err := challengeOf(optionsJSON)
	if err != nil {
		return nil, err
	}
	a.Counter++
	ad := a.authData(a.flags(), nil)
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	msg := append(append([]byte{}, ad...), h[:]...)
	var sig []byte
	if a.Alg == EdDSA {
		sig = ed25519.Sign(a.ed, msg)
	} else {
		d := sha256.Sum256(msg)
		if sig, err = ecdsa.SignASN1(rand.Reader, a.ec, d[:]); err != nil {
			return nil, err
		}
	}
	resp := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig)}
	if userHandle != nil {
		resp["userHandle"] = b64(userHandle)
	}
	return json.Marshal(map[string]any{
		"id": b64(a.CredentialID), "rawId": b64(a.CredentialID), "type": "public-key",
		"response": resp, "clientExtensionResults": map[string]any{},
	})
}
