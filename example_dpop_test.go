package auth_test

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// A server behind a TLS-terminating proxy that binds the tokens of every
// client that sends DPoP proofs. Proofs name the URL clients use, so the
// server is told its external origin; with several instances, the replay
// cache must be shared (redislimit.NewReplayCache).
func ExampleWithDPoP() {
	a, err := auth.New(memstore.New(),
		auth.WithSecret(secret),
		auth.WithDPoP(auth.DPoPAllowed),
		auth.WithDPoPExternalURL("https://api.example.com"),
		auth.WithDPoPNonces(5*time.Minute), // optional
	)
	if err != nil {
		log.Fatal(err)
	}
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.UserFromContext(r.Context())
		fmt.Fprintln(w, "orders of", u.Username)
	})
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())           // login and refresh read the DPoP header
	mux.Handle("/orders", a.Middleware(orders)) // "Authorization: DPoP" with a proof
	fmt.Println("ready")
	// Output: ready
}
