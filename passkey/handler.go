package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/gatehouse/auth"
)

const (
	pathRegisterBegin  = "/auth/passkeys/register/begin"
	pathRegisterFinish = "/auth/passkeys/register/finish"
	pathList           = "/auth/passkeys"
	pathOne            = "/auth/passkeys/" // + ID
	pathLoginBegin     = "/auth/passkeys/login/begin"
	pathLoginFinish    = "/auth/passkeys/login/finish"
	maxNameLen         = 64 // characters
)

func (p *plugin) routes() []auth.Route {
	return []auth.Route{
		{Method: http.MethodPost, Path: pathRegisterBegin, Bearer: true, Serve: p.registerBegin},
		{Method: http.MethodPost, Path: pathRegisterFinish, Bearer: true, Serve: p.registerFinish},
		{Method: http.MethodGet, Path: pathList, Bearer: true, Serve: p.list},
		{Method: http.MethodPatch, Path: pathOne, Bearer: true, Serve: p.rename},
		{Method: http.MethodDelete, Path: pathOne, Bearer: true, Serve: p.remove},
		{Method: http.MethodPost, Path: pathLoginBegin, Serve: p.loginBegin},
		{Method: http.MethodPost, Path: pathLoginFinish, Tokens: p.loginFinish},
	}
}

// passkeyJSON is the public view of a passkey: never its key or handle.
type passkeyJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
	LastUsedAt     time.Time `json:"last_used_at"`
	BackupEligible bool      `json:"backup_eligible"`
	BackupState    bool      `json:"backup_state"`
}

func publicPasskey(k *auth.Passkey) passkeyJSON {
	return passkeyJSON{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt,
		BackupEligible: k.BackupEligible, BackupState: k.BackupState}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v) // our own types: they always marshal
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ready reports ErrMFAUnsupported when the store keeps no credentials.
func (p *plugin) ready() error {
	if p.cs == nil {
		return auth.ErrMFAUnsupported
	}
	return nil
}

func me(r *http.Request) *auth.User {
	u, _ := auth.UserFromContext(r.Context())
	return u
}

// field returns a validation error for one field.
func field(name, typ, msg string) error {
	return &auth.ValidationError{Problems: []auth.FieldError{{Loc: []string{"body", name}, Msg: msg, Type: typ}}}
}

// readBody decodes an optional JSON body: an empty body is {}.
func readBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil
	}
	return auth.ReadJSON(w, r, v)
}

// beginJSON is a ceremony's options with the state token to send back.
type beginJSON struct {
	State string `json:"state"`
	*protocol.CredentialCreation
}

type beginLoginJSON struct {
	State string `json:"state"`
	*protocol.CredentialAssertion
}

func (p *plugin) registerBegin(w http.ResponseWriter, r *http.Request) error {
	if err := p.ready(); err != nil {
		return err
	}
	// A new passkey is a new way in that skips the password: a user who
	// has a second factor must have shown it recently (a login with it,
	// within the step-up window), or a stolen access token could add the
	// thief's own passkey.
	if err := p.a.StepUp(r.Context(), ""); err != nil {
		return err
	}
	creation, state, err := p.beginRegistration(r.Context(), me(r).ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, beginJSON{State: state, CredentialCreation: creation})
	return nil
}

// finishRequest is the body of both finish endpoints.
type finishRequest struct {
	State      string          `json:"state"`
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name"`
	MFAToken   string          `json:"mfa_token"`
}

func readFinish(w http.ResponseWriter, r *http.Request) (*finishRequest, error) {
	var f finishRequest
	if err := auth.ReadJSON(w, r, &f); err != nil {
		return nil, err
	}
	switch {
	case f.State == "":
		return nil, field("state", "missing", "Field required")
	case len(f.Credential) == 0 || f.Credential[0] != '{':
		return nil, field("credential", "model_attributes_type", "Input should be a valid dictionary or object")
	case len([]rune(f.Name)) > maxNameLen || strings.ContainsRune(f.Name, 0):
		return nil, field("name", "string_too_long", "Name must be at most 64 characters")
	}
	return &f, nil
}

func (p *plugin) registerFinish(w http.ResponseWriter, r *http.Request) error {
	if err := p.ready(); err != nil {
		return err
	}
	f, err := readFinish(w, r)
	if err != nil {
		return err
	}
	pk, err := p.finishRegistration(r.Context(), me(r).ID, f.State, f.Credential, strings.TrimSpace(f.Name))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, publicPasskey(pk))
	return nil
}

func (p *plugin) list(w http.ResponseWriter, r *http.Request) error {
	if err := p.ready(); err != nil {
		return err
	}
	keys, err := p.cs.UserPasskeys(r.Context(), me(r).ID)
	if err != nil {
		return err
	}
	out := make([]passkeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, publicPasskey(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (p *plugin) rename(w http.ResponseWriter, r *http.Request) error {
	if err := p.ready(); err != nil {
		return err
	}
	var body struct {
		Name *string `json:"name"`
	}
	if err := auth.ReadJSON(w, r, &body); err != nil {
		return err
	}
	if body.Name == nil {
		return field("name", "missing", "Field required")
	}
	name := strings.TrimSpace(*body.Name)
	if name == "" || len([]rune(name)) > maxNameLen || strings.ContainsRune(name, 0) {
		return field("name", "string_too_long", "Name must be 1 to 64 characters")
	}
	id := strings.TrimPrefix(r.URL.Path, pathOne)
	u := me(r)
	if err := p.cs.RenamePasskey(r.Context(), u.ID, id, name); err != nil {
		return err
	}
	keys, err := p.cs.UserPasskeys(r.Context(), u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == id {
			writeJSON(w, http.StatusOK, publicPasskey(k))
			return nil
		}
	}
	return auth.ErrCredentialNotFound
}

func (p *plugin) remove(w http.ResponseWriter, r *http.Request) error {
	if err := p.ready(); err != nil {
		return err
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := readBody(w, r, &body); err != nil {
		return err
	}
	id := strings.TrimPrefix(r.URL.Path, pathOne)
	u := me(r)
	// Another user's passkey is 404 before any second factor is asked.
	keys, err := p.cs.UserPasskeys(r.Context(), u.ID)
	if err != nil {
		return err
	}
	found := false
	for _, k := range keys {
		found = found || k.ID == id
	}
	if !found {
		return auth.ErrCredentialNotFound
	}
	if err := p.a.StepUp(r.Context(), body.Code); err != nil {
		return err
	}
	if err := p.cs.DeletePasskey(r.Context(), u.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (p *plugin) loginBegin(w http.ResponseWriter, r *http.Request) error {
	if err := p.ready(); err != nil {
		return err
	}
	var body struct {
		Username string `json:"username"`
		MFAToken string `json:"mfa_token"`
	}
	if err := readBody(w, r, &body); err != nil {
		return err
	}
	// Anyone may begin, and each one makes a ceremony: the address pays.
	if err := p.a.ThrottlePasskeyBegin(r.Context()); err != nil {
		return err
	}
	userID := ""
	switch {
	case body.MFAToken != "":
		id, err := p.a.MFATokenUser(body.MFAToken)
		if err != nil {
			return err
		}
		userID = id
	case body.Username != "":
		// An unknown name gets the options of a discoverable login, as a
		// user without passkeys does.
		if u, err := p.a.UserByUsername(r.Context(), body.Username); err == nil {
			userID = u.ID
		} else if !isNotFound(err) {
			return err
		}
	}
	assertion, state, err := p.beginLogin(r.Context(), userID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, beginLoginJSON{State: state, CredentialAssertion: assertion})
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, auth.ErrUserNotFound) }

func (p *plugin) loginFinish(r *http.Request) (auth.TokenPair, error) {
	if err := p.ready(); err != nil {
		return auth.TokenPair{}, err
	}
	f, err := readFinish(nil, r)
	if err != nil {
		return auth.TokenPair{}, err
	}
	ctx := r.Context()
	if f.MFAToken != "" {
		// The second factor after a password: the mfa_token's budget and
		// single use apply.
		return p.a.VerifySecondFactor(ctx, f.MFAToken, func(ctx context.Context, u *auth.User) (string, error) {
			_, method, err := p.finishLogin(ctx, f.State, f.Credential, u.ID)
			return method, err
		})
	}
	// The primary login: refused passkeys are charged to the address.
	return p.a.ThrottlePasskeyLogin(ctx, func(ctx context.Context) (auth.TokenPair, error) {
		userID, method, err := p.finishLogin(ctx, f.State, f.Credential, "")
		if err != nil {
			return auth.TokenPair{}, err
		}
		return p.a.LoginVerified(ctx, userID, method, auth.AMRMultiFactor)
	})
}
