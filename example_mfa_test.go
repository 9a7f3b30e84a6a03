package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// A user turns TOTP on, and from then on logs in with the password and a
// code: Login answers *MFARequiredError, whose token VerifyMFA takes with
// the code.
func ExampleAuthenticator_VerifyMFA() {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := auth.New(memstore.New(), auth.WithSecret(secret), auth.WithClock(clock),
		auth.WithEncryptionKey(exampleEncryptionKey))
	if err != nil {
		panic(err)
	}
	u, _ := a.Register(ctx, "alice", "correct horse battery")

	// Enrolment: show the secret (as a QR code of URI), then confirm a code.
	enrollment, err := a.EnrollTOTP(ctx, u, "correct horse battery")
	if err != nil {
		panic(err)
	}
	code, _ := totp.GenerateCode(enrollment.Secret, now) // what the app shows
	recoveryCodes, err := a.ConfirmTOTP(ctx, u, code)
	if err != nil {
		panic(err)
	}
	fmt.Println("recovery codes:", len(recoveryCodes))

	// Login: the password first, then the second factor.
	now = now.Add(30 * time.Second)
	_, err = a.Login(ctx, "alice", "correct horse battery")
	var mfa *auth.MFARequiredError
	if !errors.As(err, &mfa) {
		panic(err)
	}
	code, _ = totp.GenerateCode(enrollment.Secret, now)
	pair, err := a.VerifyMFA(ctx, mfa.Token, code)
	if err != nil {
		panic(err)
	}
	fmt.Println("logged in:", pair.AccessToken != "")

	// A recovery code works once, in place of a TOTP code.
	_, err = a.Login(ctx, "alice", "correct horse battery")
	errors.As(err, &mfa)
	_, err = a.VerifyMFA(ctx, mfa.Token, recoveryCodes[0])
	fmt.Println("recovery code:", err)
	// Output:
	// recovery codes: 10
	// logged in: true
	// recovery code: <nil>
}

// Sensitive routes can ask for a multi-factor login, or a recent one.
func ExampleAuthenticator_RequireMFA() {
	a, err := auth.New(memstore.New(), auth.WithSecret(secret))
	if err != nil {
		panic(err)
	}
	billing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		how, _ := auth.AuthenticationFromContext(r.Context())
		fmt.Fprintln(w, "methods:", how.Methods, "at", how.Time)
	})
	mux := http.NewServeMux()
	mux.Handle("/billing", a.Middleware(a.RequireMFA(billing)))
	mux.Handle("/delete-account", a.Middleware(a.RequireRecentAuth(5*time.Minute)(billing)))
	fmt.Println("routes ready")
	// Output: routes ready
}

var exampleEncryptionKey = []byte("an-example-key-of-32-bytes-long!")
