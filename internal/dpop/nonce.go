package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Nonces makes and checks server nonces (RFC 9449 section 8) without
// storing any: a nonce is a time window's number with a MAC under a key,
// so instances that share the key accept each other's nonces. A nonce is
// good in its own window and the next, for between Every and twice that.
type Nonces struct {
	key   []byte
	every time.Duration
	clock func() time.Time
}

// NewNonces returns nonces under key (32 bytes or more) that change every
// every.
func NewNonces(key []byte, every time.Duration, clock func() time.Time) *Nonces {
	return &Nonces{key: key, every: every, clock: clock}
}

// Current returns the nonce of the current window.
func (n *Nonces) Current() string { return n.make(n.window()) }

// Valid reports whether s is the nonce of the current or the previous
// window.
func (n *Nonces) Valid(s string) bool {
	w := n.window()
	return s != "" && (hmac.Equal([]byte(s), []byte(n.make(w))) || hmac.Equal([]byte(s), []byte(n.make(w-1))))
}

func (n *Nonces) window() int64 { return n.clock().UnixNano() / int64(n.every) }

func (n *Nonces) make(w int64) string {
	var buf [8 + 16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(w))
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte("gatehouse dpop nonce"))
	m.Write(buf[:8])
	copy(buf[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}
