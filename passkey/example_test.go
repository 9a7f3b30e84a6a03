package passkey_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/passkey"
)

// Passkeys are a plug-in: WithWebAuthn adds their endpoints to the
// Authenticator's handler.
func ExampleWithWebAuthn() {
	a, err := auth.New(memstore.New(),
		auth.WithSecret([]byte("4f1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f10")),
		passkey.WithWebAuthn("example.com", "Example", "https://example.com"),
	)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler()) // /auth/passkeys/... included
	fmt.Println("passkeys on")
	// Output: passkeys on
}

// Passkey logins are limited per client address: every login/begin
// counts against one budget, every refused login/finish against another.
// These are the defaults; auth.WithPasskeyLimiters shares them between
// instances through a Limiter such as the redislimit module's.
func ExampleWithWebAuthn_budgets() {
	_, err := auth.New(memstore.New(),
		auth.WithSecret([]byte("4f1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f10")),
		passkey.WithWebAuthn("example.com", "Example", "https://example.com"),
		auth.WithPasskeyLimits(
			auth.RateLimit{Burst: 30, Every: 2 * time.Second}, // logins begun
			auth.RateLimit{Burst: 20, Every: 6 * time.Second}, // logins refused
		),
	)
	fmt.Println("passkeys on, with budgets:", err == nil)
	// Output: passkeys on, with budgets: true
}
