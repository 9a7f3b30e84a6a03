package verifier_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/verifier"
)

// exampleKey derives a fixed Ed25519 key so that the output does not vary.
func exampleKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("example"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// A service that trusts Gatehouse's access tokens, with the keys fetched
// from Gatehouse's JWKS.
func Example() {
	ctx := context.Background()

	// Gatehouse, in its own service, signs with an Ed25519 key and so
	// serves /auth/.well-known/jwks.json.
	gate, err := auth.New(memstore.New(),
		auth.WithSigningKey(auth.EdDSAKey("2026-07", exampleKey())),
		auth.WithIssuer("https://login.example.test"),
		auth.WithAudience("orders"),
		auth.WithInsecureFastHashingForTests()) // this example runs as a test; New refuses it elsewhere
	if err != nil {
		log.Fatal(err)
	}
	login := httptest.NewServer(gate.Handler())
	defer login.Close()

	// The orders service holds no secret and no user store.
	v, err := verifier.New(
		verifier.WithJWKSURL(login.URL+"/auth/.well-known/jwks.json"),
		verifier.WithIssuer("https://login.example.test"),
		verifier.WithAudience("orders"))
	if err != nil {
		log.Fatal(err)
	}
	if err := v.Refresh(ctx); err != nil { // optional: fail fast at startup
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verifier.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "orders of a user (token version %d) for %s", c.TokenVersion, strings.Join(c.Audience, ","))
	})))

	if _, err := gate.Register(ctx, "erin", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	pair, err := gate.Login(ctx, "erin", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	for _, authz := range []string{"Bearer " + pair.AccessToken, "Bearer " + pair.RefreshToken, ""} {
		req := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSuffix(rec.Body.String(), "\n"))
	}
	// Output:
	// 200 orders of a user (token version 1) for orders
	// 401 {"detail":"Could not validate credentials","error":"invalid_token"}
	// 401 {"detail":"Not authenticated","error":"invalid_request"}
}

// A static key set, for a service that gets Gatehouse's public keys by
// configuration: here a saved copy of the JWKS.
func ExampleKeysFromJWKS() {
	priv := exampleKey()
	gate, err := auth.New(memstore.New(), auth.WithSigningKey(auth.EdDSAKey("2026-07", priv)),
		auth.WithInsecureFastHashingForTests()) // this example runs as a test; New refuses it elsewhere
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	gate.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/.well-known/jwks.json", nil))
	saved := rec.Body.Bytes() // e.g. read from a file or a config map

	keys, err := verifier.KeysFromJWKS(saved)
	if err != nil {
		log.Fatal(err)
	}
	v, err := verifier.New(verifier.WithKeys(keys...))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(keys), keys[0].KID(), keys[0].Algorithm())

	ctx := context.Background()
	if _, err := gate.Register(ctx, "finn", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	pair, _ := gate.Login(ctx, "finn", "correct horse battery")
	c, err := v.Verify(ctx, pair.AccessToken)
	fmt.Println(c.TokenVersion, err)
	// Output:
	// 1 2026-07 EdDSA
	// 1 <nil>
}
