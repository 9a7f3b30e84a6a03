package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// exampleEd25519 derives a fixed Ed25519 key from a name, so that the
// examples' output does not vary. Real keys come from `openssl genpkey`
// (see [auth.PEMKey]) or ed25519.GenerateKey.
func exampleEd25519(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Rotating the signing key without logging anyone out. Instances share the
// store; each step is one deploy of every instance.
func ExampleWithVerificationKeys() {
	ctx := context.Background()
	store := memstore.New()
	oldPriv, newPriv := exampleEd25519("2026-01"), exampleEd25519("2026-07")
	oldKey := auth.EdDSAKey("2026-01", oldPriv)
	oldPublic := auth.EdDSAPublicKey("2026-01", oldPriv.Public().(ed25519.PublicKey))
	newKey := auth.EdDSAKey("2026-07", newPriv)
	newPublic := auth.EdDSAPublicKey("2026-07", newPriv.Public().(ed25519.PublicKey))

	// This example runs as a test: cheap hashing keeps it fast. New refuses
	// the option outside tests; leave it out in real code.
	fast := auth.WithInsecureFastHashingForTests()

	// Before: the old key signs.
	before, err := auth.New(store, auth.WithSigningKey(oldKey), fast)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := before.Register(ctx, "dana", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	pair, err := before.Login(ctx, "dana", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}

	// Deploy 1: the new key is published, so every instance accepts it
	// before any instance signs with it.
	step1, _ := auth.New(store, auth.WithSigningKey(oldKey), auth.WithVerificationKeys(newPublic), fast)

	// Deploy 2: the new key signs; the old one only verifies, so its
	// tokens keep working. Its private half is no longer needed.
	step2, _ := auth.New(store, auth.WithSigningKey(newKey), auth.WithVerificationKeys(oldPublic), fast)
	u, err := step2.VerifyAccessToken(ctx, pair.AccessToken)
	fmt.Println("old token after deploy 2:", u.Username, err)
	next, err := step2.Refresh(ctx, pair.RefreshToken)
	if err != nil {
		log.Fatal(err)
	}
	u, err = step1.VerifyAccessToken(ctx, next.AccessToken)
	fmt.Println("new token on a deploy-1 instance:", u.Username, err)

	// Deploy 3, once the refresh TTL has passed: the old key is gone, and
	// so is any token it signed.
	step3, _ := auth.New(store, auth.WithSigningKey(newKey), fast)
	_, err = step3.VerifyAccessToken(ctx, pair.AccessToken)
	fmt.Println("old token after deploy 3 is invalid:", errors.Is(err, auth.ErrInvalidToken))
	// Output:
	// old token after deploy 2: dana <nil>
	// new token on a deploy-1 instance: dana <nil>
	// old token after deploy 3 is invalid: true
}

// Loading a key that openssl made:
//
//	openssl genpkey -algorithm ed25519 -out signing.pem
func ExamplePEMKey() {
	pem, err := os.ReadFile("testdata/keys/ed25519.pem")
	if err != nil {
		log.Fatal(err)
	}
	key := auth.PEMKey("2026-07", pem)
	a, err := auth.New(memstore.New(), auth.WithSigningKey(key))
	if err != nil {
		log.Fatal(err)
	}
	_ = a // mount a.Handler(): it now serves /auth/.well-known/jwks.json
	fmt.Println(key.KID(), key.Algorithm())
	// Output:
	// 2026-07 EdDSA
}
