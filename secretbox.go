package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// secretBox seals second-factor secrets at rest. A TOTP secret is sealed
// with AES-256-GCM under a key of its own, with the user's ID as associated
// data, so that a sealed secret copied to another user's row does not
// open. Recovery codes are hashed with HMAC-SHA256 under another key.
// Both keys derive from the encryption key ([WithEncryptionKey]) or, when
// none is set, from the signing key: a database dump alone opens nothing.
//
// Several keys may be configured for rotation: the first seals and hashes,
// all of them open and verify. A sealed value starts with a version byte
// and the 4-byte ID of its key, so opening never tries the wrong key.
type secretBox struct {
	keys []boxKey
}

type boxKey struct {
	id   [4]byte
	aead cipher.AEAD
	mac  []byte // keys recovery-code hashes
}

const sealVersion = 1

var errSealed = errors.New("auth: sealed secret does not open")

func newSecretBox(keys [][]byte) (*secretBox, error) {
	b := &secretBox{}
	for _, k := range keys {
		derive := func(label string) []byte {
			m := hmac.New(sha256.New, k)
			m.Write([]byte(label))
			return m.Sum(nil)
		}
		block, err := aes.NewCipher(derive("gatehouse totp seal"))
		if err != nil {
			return nil, fmt.Errorf("auth: encryption key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("auth: encryption key: %w", err)
		}
		bk := boxKey{aead: aead, mac: derive("gatehouse recovery codes")}
		copy(bk.id[:], derive("gatehouse key id"))
		b.keys = append(b.keys, bk)
	}
	if len(b.keys) == 0 {
		return nil, configErr(ErrInvalidConfig, "auth: no encryption key")
	}
	return b, nil
}

// seal encrypts plaintext for the user with the current key.
func (b *secretBox) seal(userID string, plaintext []byte) ([]byte, error) {
	k := &b.keys[0]
	out := make([]byte, 1+len(k.id)+k.aead.NonceSize(), 1+len(k.id)+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	nonce := out[1+len(k.id):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("auth: read random bytes: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, []byte(userID)), nil
}

// open decrypts what seal made for the same user, with whichever
// configured key sealed it.
func (b *secretBox) open(userID string, sealed []byte) ([]byte, error) {
	if len(sealed) < 5 || sealed[0] != sealVersion {
		return nil, errSealed
	}
	for i := range b.keys {
		k := &b.keys[i]
		if string(k.id[:]) != string(sealed[1:5]) {
			continue
		}
		rest := sealed[5:]
		if len(rest) < k.aead.NonceSize() {
			return nil, errSealed
		}
		pt, err := k.aead.Open(nil, rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():], []byte(userID))
		if err != nil {
			return nil, errSealed
		}
		return pt, nil
	}
	return nil, errSealed
}

// codeHashes returns the hashes of a normalized recovery code of the
// user, under each configured key, current first: a stored hash names its
// key, so each matches under one key only.
func (b *secretBox) codeHashes(userID, code string) []string {
	out := make([]string, 0, len(b.keys))
	for i := range b.keys {
		k := &b.keys[i]
		m := hmac.New(sha256.New, k.mac)
		m.Write([]byte(userID))
		m.Write([]byte{0})
		m.Write([]byte(code))
		out = append(out, "h1$"+hex.EncodeToString(k.id[:])+"$"+base64.RawURLEncoding.EncodeToString(m.Sum(nil)))
	}
	return out
}
