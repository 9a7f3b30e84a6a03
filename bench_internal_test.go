package auth

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/auth/internal/jose"
)

func benchAuthenticator(b *testing.B) *Authenticator {
	b.Helper()
	a, err := New(nopStore{}, WithSecret([]byte("f3a91c07e5d24b68a0c7e19b3d52f8a6-bench")))
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkSignAccessToken is the cost of signing one HS256 access token.
func BenchmarkSignAccessToken(b *testing.B) {
	a := benchAuthenticator(b)
	u := &User{ID: "01a21bf7-e29f-77dc-8c14-84a2ffdf2ab2", TokenVersion: 3}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.sign(u, jose.TypeAccess, "", "jti", now, now.Add(time.Hour), nil, &refreshGrant{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAccessToken is the cost of verifying one HS256 access token
// with golang-jwt: signature, algorithm, exp, iat, type.
func BenchmarkParseAccessToken(b *testing.B) {
	a := benchAuthenticator(b)
	u := &User{ID: "01a21bf7-e29f-77dc-8c14-84a2ffdf2ab2", TokenVersion: 3}
	now := time.Now()
	tok, _ := a.sign(u, jose.TypeAccess, "", "jti", now, now.Add(time.Hour), nil, &refreshGrant{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.parse(tok, jose.TypeAccess); err != nil {
			b.Fatal(err)
		}
	}
}

// nopStore is a UserStore that stores nothing, for benchmarks that never
// reach the store.
type nopStore struct{}

func (nopStore) CreateUser(context.Context, *User) error { return nil }
func (nopStore) UserByID(context.Context, string) (*User, error) {
	return nil, ErrUserNotFound
}
func (nopStore) UserByUsername(context.Context, string) (*User, error) {
	return nil, ErrUserNotFound
}
func (nopStore) UpdateUser(context.Context, *User, string, int64) error { return ErrUserNotFound }
func (nopStore) DeleteUser(context.Context, string) error               { return ErrUserNotFound }
