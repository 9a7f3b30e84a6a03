package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// cursors issues and opens the opaque page cursors of the admin API: a
// position (a username, an audit entry ID) with a MAC over it and the
// query it belongs to, under a key derived from the signing key. A cursor
// that was altered, made up, or issued for another query is refused, so a
// client can only continue listings the server started.
type cursors []byte

// maxCursorLen bounds what open reads: a username of 1020 bytes, encoded.
const maxCursorLen = 1500

func (c cursors) mac(kind, query, pos string) []byte {
	m := hmac.New(sha256.New, c)
	for _, s := range []string{kind, query, pos} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return m.Sum(nil)[:16]
}

// issue returns the cursor for position pos of a listing of kind under
// the given query.
func (c cursors) issue(kind, query, pos string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(pos)) + "." + enc.EncodeToString(c.mac(kind, query, pos))
}

// open returns the position of a cursor issued by issue for the same kind
// and query, or ErrInvalidCursor.
func (c cursors) open(kind, query, cursor string) (string, error) {
	if len(cursor) > maxCursorLen {
		return "", ErrInvalidCursor
	}
	p, m, ok := strings.Cut(cursor, ".")
	if !ok {
		return "", ErrInvalidCursor
	}
	enc := base64.RawURLEncoding
	pos, err1 := enc.DecodeString(p)
	sum, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, c.mac(kind, query, string(pos))) {
		return "", ErrInvalidCursor
	}
	return string(pos), nil
}
