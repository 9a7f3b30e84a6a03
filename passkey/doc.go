// Package passkey adds passkeys (WebAuthn, with github.com/go-webauthn/webauthn)
// to a Gatehouse [auth.Authenticator]: registration, login with a passkey
// (discoverable or by username), and a passkey as the second factor after a
// password. It is a plug-in ([auth.Plugin]) so that an application without
// passkeys links none of go-webauthn:
//
//	a, err := auth.New(store, auth.WithSecret(secret),
//		passkey.WithWebAuthn("example.com", "Example", "https://example.com"))
//
// Passkeys are kept by the store's [auth.CredentialStore]. Ceremony state
// travels in a signed, single-use state token ([auth.Authenticator.IssueState])
// that lives 5 minutes and carries the challenge, so any instance can
// finish a ceremony another began, and a challenge works once.
//
// Endpoints, under /auth/ (see docs/passkeys.md):
//
//	POST   /auth/passkeys/register/begin   bearer                       200 {state, publicKey}
//	POST   /auth/passkeys/register/finish  bearer; {state, credential, name?}  201 {id, name, created_at}
//	GET    /auth/passkeys                  bearer                       200 list
//	PATCH  /auth/passkeys/{id}             bearer; {name}               200 passkey
//	DELETE /auth/passkeys/{id}             bearer; {code?}              204
//	POST   /auth/passkeys/login/begin      {username?, mfa_token?}      200 {state, publicKey}
//	POST   /auth/passkeys/login/finish     {state, credential, mfa_token?}  200 token pair
//
// User verification is required, so a passkey login counts as
// multi-factor: its access token's "amr" is ["hwk", "mfa"], or ["swk",
// "mfa"] for a passkey that may be synced (backup eligible). Sign
// counters are kept, and an assertion whose counter does not go up (when
// either is non-zero) is refused as a sign of a cloned authenticator; the
// backup-eligible flag must never change, and the backup state is kept.
package passkey
