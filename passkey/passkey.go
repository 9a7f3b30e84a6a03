package passkey

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse/auth"
)

// ceremonyTTL is how long a begun ceremony may take.
const ceremonyTTL = 5 * time.Minute

// State token purposes: a registration's state never finishes a login.
const (
	purposeRegister = "passkey register"
	purposeLogin    = "passkey login"
)

// WithWebAuthn turns passkeys on: rpID is the relying party ID (the
// site's domain, such as "example.com" or "localhost"), rpName its name
// as authenticators show it, and origins the exact origins that pages
// calling WebAuthn are served from ("https://example.com"). New fails
// with an error matching [auth.ErrInvalidConfig] for an empty rpID or no
// origin, or a configuration go-webauthn refuses.
func WithWebAuthn(rpID, rpName string, origins ...string) auth.Option {
	return auth.WithPlugin(&plugin{rpID: rpID, rpName: rpName, origins: origins})
}

// plugin is the passkey plug-in of one Authenticator.
type plugin struct {
	rpID, rpName string
	origins      []string

	a  *auth.Authenticator
	w  *webauthn.WebAuthn
	cs auth.CredentialStore // nil: the endpoints answer 501
}

// Install implements [auth.Plugin].
func (p *plugin) Install(a *auth.Authenticator) ([]auth.Route, error) {
	if p.rpID == "" || len(p.origins) == 0 {
		return nil, fmt.Errorf("%w: passkey: WithWebAuthn needs an RP ID and at least one origin", auth.ErrInvalidConfig)
	}
	name := p.rpName
	if name == "" {
		name = p.rpID
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  p.rpID,
		RPDisplayName:         name,
		RPOrigins:             p.origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationRequired,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: passkey: %v", auth.ErrInvalidConfig, err)
	}
	p.a, p.w, p.cs = a, w, a.CredentialStore()
	return p.routes(), nil
}

// user adapts a Gatehouse user and its passkeys to go-webauthn.
type user struct {
	u      *auth.User
	handle []byte
	keys   []*auth.Passkey
}

func (u *user) WebAuthnID() []byte          { return u.handle }
func (u *user) WebAuthnName() string        { return u.u.Username }
func (u *user) WebAuthnDisplayName() string { return u.u.Username }

func (u *user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(u.keys))
	for _, k := range u.keys {
		c := webauthn.Credential{
			ID:              k.CredentialID,
			PublicKey:       k.PublicKey,
			AttestationType: "none",
			Flags: webauthn.CredentialFlags{
				UserPresent: true, UserVerified: true,
				BackupEligible: k.BackupEligible, BackupState: k.BackupState,
			},
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
		}
		for _, t := range k.Transports {
			c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
		}
		out = append(out, c)
	}
	return out
}

// loadUser returns the user with its passkeys, and its user handle: the
// one its passkeys were made for, or a new random one.
func (p *plugin) loadUser(ctx context.Context, userID string) (*user, error) {
	u, err := p.a.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	keys, err := p.cs.UserPasskeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	wu := &user{u: u, keys: keys}
	if len(keys) > 0 {
		wu.handle = keys[0].UserHandle
	} else {
		wu.handle = make([]byte, 32)
		if _, err := rand.Read(wu.handle); err != nil {
			return nil, fmt.Errorf("passkey: read random bytes: %w", err)
		}
	}
	return wu, nil
}

// ceremony is what a state token carries: go-webauthn's session data,
// the user it was begun for (empty for a discoverable login), and for a
// second factor the mfa_token's binding.
type ceremony struct {
	Session webauthn.SessionData `json:"s"`
	UserID  string               `json:"u,omitempty"`
}

func (p *plugin) seal(purpose string, c ceremony) (string, error) {
	c.Session.Expires = time.Time{} // the state token's expiry, on the injected clock, rules
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("passkey: %w", err)
	}
	return p.a.IssueState(purpose, b, ceremonyTTL)
}

// open redeems a state token. Any fault of the token is ErrInvalidPasskey:
// a spent one is a replayed challenge.
func (p *plugin) open(ctx context.Context, purpose, state string) (*ceremony, error) {
	b, err := p.a.RedeemState(ctx, purpose, state)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		return nil, auth.ErrInvalidPasskey
	case err != nil:
		return nil, err
	}
	var c ceremony
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, auth.ErrInvalidPasskey
	}
	return &c, nil
}

// beginRegistration starts registering a passkey for the user.
func (p *plugin) beginRegistration(ctx context.Context, userID string) (*protocol.CredentialCreation, string, error) {
	wu, err := p.loadUser(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range wu.WebAuthnCredentials() {
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := p.w.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin registration: %w", err)
	}
	state, err := p.seal(purposeRegister, ceremony{Session: *session, UserID: userID})
	return creation, state, err
}

// finishRegistration checks the authenticator's answer and stores the
// passkey.
func (p *plugin) finishRegistration(ctx context.Context, userID, state string, credential []byte, name string) (*auth.Passkey, error) {
	c, err := p.open(ctx, purposeRegister, state)
	if err != nil {
		return nil, err
	}
	if c.UserID != userID {
		return nil, auth.ErrInvalidPasskey
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, auth.ErrInvalidPasskey
	}
	wu, err := p.loadUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(wu.handle, c.Session.UserID) {
		if len(wu.keys) > 0 {
			return nil, auth.ErrInvalidPasskey // another passkey was registered meanwhile
		}
		wu.handle = c.Session.UserID
	}
	cred, err := p.w.CreateCredential(wu, c.Session, parsed)
	if err != nil {
		return nil, auth.ErrInvalidPasskey
	}
	now := p.a.Now()
	if name == "" {
		name = "Passkey"
	}
	pk := &auth.Passkey{
		ID: uuid.NewString(), UserID: userID, CredentialID: cred.ID, UserHandle: wu.handle,
		PublicKey: cred.PublicKey, Name: name, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		AAGUID: cred.Authenticator.AAGUID, CreatedAt: now, LastUsedAt: now,
	}
	for _, t := range cred.Transport {
		pk.Transports = append(pk.Transports, string(t))
	}
	if err := p.cs.CreatePasskey(ctx, pk); err != nil {
		return nil, err
	}
	return pk, nil
}

// beginLogin starts a login: for userID's passkeys, or for any
// discoverable credential when userID is empty.
func (p *plugin) beginLogin(ctx context.Context, userID string) (*protocol.CredentialAssertion, string, error) {
	var assertion *protocol.CredentialAssertion
	var session *webauthn.SessionData
	var err error
	if userID == "" {
		assertion, session, err = p.w.BeginDiscoverableLogin()
	} else {
		var wu *user
		if wu, err = p.loadUser(ctx, userID); err != nil {
			return nil, "", err
		}
		if len(wu.keys) == 0 {
			assertion, session, err = p.w.BeginDiscoverableLogin()
			userID = ""
		} else {
			assertion, session, err = p.w.BeginLogin(wu)
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin login: %w", err)
	}
	state, err := p.seal(purposeLogin, ceremony{Session: *session, UserID: userID})
	return assertion, state, err
}

// finishLogin checks an assertion and returns its passkey's user and
// the amr value of the passkey. wantUser, when set, is the only user the
// assertion may be for (a second factor).
func (p *plugin) finishLogin(ctx context.Context, state string, credential []byte, wantUser string) (string, string, error) {
	c, err := p.open(ctx, purposeLogin, state)
	if err != nil {
		return "", "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return "", "", auth.ErrInvalidPasskey
	}
	var wu *user
	var cred *webauthn.Credential
	if c.UserID != "" {
		if wu, err = p.loadUser(ctx, c.UserID); err != nil {
			return "", "", err
		}
		cred, err = p.w.ValidateLogin(wu, c.Session, parsed)
	} else {
		var lookupErr error
		var found webauthn.User
		found, cred, err = p.w.ValidatePasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
			pk, err := p.cs.PasskeyByCredentialID(ctx, rawID)
			if err != nil {
				lookupErr = err
				return nil, err
			}
			if wu, err = p.loadUser(ctx, pk.UserID); err != nil {
				lookupErr = err
				return nil, err
			}
			wu.handle = pk.UserHandle
			return wu, nil
		}, c.Session, parsed)
		if lookupErr != nil && !errors.Is(lookupErr, auth.ErrCredentialNotFound) && !errors.Is(lookupErr, auth.ErrUserNotFound) {
			return "", "", lookupErr
		}
		if err == nil {
			wu = found.(*user)
		}
	}
	if err != nil {
		return "", "", auth.ErrInvalidPasskey
	}
	if wantUser != "" && wu.u.ID != wantUser {
		return "", "", auth.ErrInvalidPasskey
	}
	if cred.Authenticator.CloneWarning {
		return "", "", auth.ErrInvalidPasskey
	}
	var pk *auth.Passkey
	for _, k := range wu.keys {
		if bytes.Equal(k.CredentialID, cred.ID) {
			pk = k
		}
	}
	if pk == nil {
		return "", "", auth.ErrInvalidPasskey
	}
	err = p.cs.UpdatePasskeyUse(ctx, wu.u.ID, pk.ID, pk.SignCount, cred.Authenticator.SignCount, cred.Flags.BackupState, p.a.Now())
	switch {
	case errors.Is(err, auth.ErrConflict), errors.Is(err, auth.ErrCredentialNotFound):
		return "", "", auth.ErrInvalidPasskey // used or removed meanwhile
	case err != nil:
		return "", "", err
	}
	method := auth.AMRHardwareKey
	if pk.BackupEligible {
		method = auth.AMRSoftwareKey
	}
	return wu.u.ID, method, nil
}
