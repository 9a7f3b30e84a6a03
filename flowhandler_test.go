package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// emailDownStore is a memstore whose user, email and token calls fail
// while its error is set.
type emailDownStore struct {
	*memstore.Store
	mu  sync.Mutex
	err error
}

func (s *emailDownStore) fail() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *emailDownStore) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *emailDownStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.UserByID(ctx, id)
}

func (s *emailDownStore) UserByEmail(ctx context.Context, c string) (*auth.User, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.UserByEmail(ctx, c)
}

func (s *emailDownStore) OneTimeToken(ctx context.Context, h string) (*auth.OneTimeToken, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.OneTimeToken(ctx, h)
}

func (s *emailDownStore) ConsumeOneTimeToken(ctx context.Context, h string) (*auth.OneTimeToken, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.ConsumeOneTimeToken(ctx, h)
}

// emailContract drives the email endpoints through every status the
// document gives them, for TestOpenAPIContract.
func emailContract(t *testing.T, ct *contract) {
	ctx := context.Background()
	clock := newClock()
	mailer := &memMailer{}
	store := &emailDownStore{Store: memstore.New()}
	a, err := auth.New(store, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithClock(clock.Now),
		auth.WithMailer(mailer), auth.WithPublicURL("https://app.example.com"), auth.WithMagicLinks(),
		auth.WithMailLimits(auth.RateLimit{Burst: 3, Every: time.Hour}, auth.RateLimit{Burst: 1000, Every: time.Second}),
		auth.WithTokenRedeemLimit(auth.RateLimit{Burst: 3, Every: time.Hour}),
		auth.WithHooks(auth.Hooks{BeforeLogin: func(_ context.Context, e auth.Event) error {
			if e.Username == "rejected" {
				return errors.New("no")
			}
			return nil
		}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartMail(); err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(ctx)
	h := a.Handler()
	f := &mailFix{a: a, h: h, mailer: mailer, clock: clock}
	const well, malformed = true, false
	big := strings.Repeat("x", 70<<10)
	check := func(c call, wellFormed bool, want int) response {
		t.Helper()
		r := ct.check(t, h, c, wellFormed, want)
		auth.WaitMail(a)
		return r
	}
	from := func(addr string, c call) call { c.remoteAddr = addr; return c }

	// Registration with an address; the verification mail.
	check(postJ("/auth/register", `{"username":"vera","password":"password-1","email":"vera@example.com"}`), well, 201)
	check(postJ("/auth/register", `{"username":"vera2","password":"password-1","email":"VERA@example.com"}`), well, 409)
	for _, name := range []string{"rejected", "walt"} {
		if _, err := a.RegisterWithEmail(ctx, name, "password-1", name+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	auth.WaitMail(a)

	mailPaths := []string{"/auth/request-verify-token", "/auth/forgot-password", "/auth/magic-link"}
	for _, path := range mailPaths {
		check(postJ(path, `{"email":"nobody@example.com"}`), well, 202)
		check(postJ(path, `{"email":"vera@example.com","extra":1}`), well, 202)
		check(postJ(path, `{}`), malformed, 422)
		check(postJ(path, `{"email":12}`), malformed, 422)
		check(post(path, "text/plain", `{"email":"vera@example.com"}`), malformed, 415)
		check(postJ(path, `{"email":"vera@example.com","pad":"`+big+`"}`), well, 413)
		for range 2 {
			check(postJ(path, `{"email":"limit@example.com"}`), well, 202)
		}
		check(postJ(path, `{"email":"limit@example.com"}`), well, 202)
		check(postJ(path, `{"email":"limit@example.com"}`), well, 429)
	}

	// Redeem endpoints.
	verify := f.lastToken(t, "vera@example.com", auth.MailVerifyEmail)
	check(postJ("/auth/verify", `{"token":"`+verify+`"}`), well, 200)
	check(from("198.51.100.1:1", postJ("/auth/verify", `{"token":"`+verify+`"}`)), well, 400)
	check(postJ("/auth/verify", `{}`), malformed, 422)
	check(post("/auth/verify", ctForm, "token=x"), malformed, 415)
	check(postJ("/auth/verify", `{"token":"`+big+`"}`), well, 413)

	reset := f.lastToken(t, "vera@example.com", auth.MailResetPassword)
	check(from("198.51.100.1:1", postJ("/auth/reset-password", `{"token":"rp_`+strings.Repeat("x", 43)+`","password":"password-2"}`)), well, 400)
	check(postJ("/auth/reset-password", `{"token":"`+reset+`"}`), malformed, 422)
	check(postJ("/auth/reset-password", `{"token":"`+reset+`","password":"short"}`), malformed, 422)
	check(post("/auth/reset-password", ctForm, "token=x&password=password-2"), malformed, 415)
	check(postJ("/auth/reset-password", `{"token":"`+reset+`","password":"password-2","pad":"`+big+`"}`), well, 413)
	check(postJ("/auth/reset-password", `{"token":"`+reset+`","password":"password-2"}`), well, 204)

	// The reset voided the magic link mailed before it.
	check(postJ("/auth/magic-link", `{"email":"vera@example.com"}`), well, 202)
	magic := f.lastToken(t, "vera@example.com", auth.MailMagicLink)
	check(postJ("/auth/magic-link/verify", `{"token":"`+magic+`"}`), well, 200)
	check(from("198.51.100.1:1", postJ("/auth/magic-link/verify", `{"token":"`+magic+`"}`)), well, 400)
	check(postJ("/auth/magic-link/verify", `{"token":7}`), malformed, 422)
	check(post("/auth/magic-link/verify", ctForm, "token=x"), malformed, 415)
	check(postJ("/auth/magic-link/verify", `{"token":"`+big+`"}`), well, 413)
	check(postJ("/auth/magic-link", `{"email":"rejected@example.com"}`), well, 202)
	check(postJ("/auth/magic-link/verify", `{"token":"`+f.lastToken(t, "rejected@example.com", auth.MailMagicLink)+`"}`), well, 403)
	// The failure budget: 198.51.100.1 has failed three times.
	for _, path := range []string{"/auth/verify", "/auth/reset-password", "/auth/magic-link/verify"} {
		check(from("198.51.100.1:1", postJ(path, `{"token":"nope","password":"password-3"}`)), well, 429)
	}

	// Change of address.
	p := tokensOf(t, serve(h, loginRequest("walt", "password-1")))
	tok := bearer(p.AccessToken)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"password-1"}`), malformed, 401)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"password-1"}`, bearer("garbage")...), well, 401)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"wrong-pass"}`, tok...), well, 400)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com"}`, tok...), malformed, 422)
	check(post("/auth/change-email", ctForm, "email=walt2@example.com&password=password-1", tok...), malformed, 415)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"password-1","pad":"`+big+`"}`, tok...), well, 413)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"password-1"}`, tok...), well, 202)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"password-1"}`, tok...), well, 202)
	check(postJ("/auth/change-email", `{"email":"walt2@example.com","password":"password-1"}`, tok...), well, 429)
	change := f.lastToken(t, "walt2@example.com", auth.MailChangeEmail)
	// Someone else takes the address first: 409 at confirmation.
	if _, err := a.RegisterWithEmail(ctx, "xena", "password-1", "Walt2@example.com"); err != nil {
		t.Fatal(err)
	}
	check(postJ("/auth/verify", `{"token":"`+change+`"}`), well, 409)
	u, _ := a.UserByUsername(ctx, "walt")
	if err := a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	check(postJ("/auth/change-email", `{"email":"walt3@example.com","password":"password-1"}`, tok...), well, 403)

	// The store fails: 503 for an outage, 500 for anything else.
	q := tokensOf(t, serve(h, loginRequest("vera", "password-2")))
	for _, c := range []struct {
		err    error
		status int
	}{{errDown, 503}, {errBroken, 500}} {
		store.setErr(c.err)
		clock.Advance(3 * time.Second) // past the user cache
		for _, cl := range []call{
			postJ("/auth/request-verify-token", `{"email":"vera@example.com"}`),
			postJ("/auth/forgot-password", `{"email":"down@example.com"}`),
			postJ("/auth/magic-link", `{"email":"down2@example.com"}`),
			postJ("/auth/verify", `{"token":"`+verify+`"}`),
			postJ("/auth/reset-password", `{"token":"`+reset+`","password":"password-3"}`),
			postJ("/auth/magic-link/verify", `{"token":"`+magic+`"}`),
			postJ("/auth/change-email", `{"email":"vera3@example.com","password":"password-2"}`, bearer(q.AccessToken)...),
		} {
			r := check(cl, well, c.status)
			if strings.Contains(string(r.body), "pq:") || strings.Contains(string(r.body), "dial tcp") {
				t.Errorf("%s leaks the store error: %s", cl.path, r.body)
			}
		}
	}
	store.setErr(nil)

	// Without a mailer: 501; on a store without addresses, registration
	// with one is 501 too.
	na, err := auth.New(memstore.New(), auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	nh := na.Handler()
	if _, err := na.Register(ctx, "yuri", "password-1"); err != nil {
		t.Fatal(err)
	}
	np := tokensOf(t, serve(nh, loginRequest("yuri", "password-1")))
	for _, c := range []call{
		postJ("/auth/request-verify-token", `{"email":"yuri@example.com"}`),
		postJ("/auth/forgot-password", `{"email":"yuri@example.com"}`),
		postJ("/auth/verify", `{"token":"x"}`),
		postJ("/auth/reset-password", `{"token":"x","password":"password-2"}`),
		postJ("/auth/change-email", `{"email":"yuri@example.com","password":"password-1"}`, bearer(np.AccessToken)...),
	} {
		ct.check(t, nh, c, well, 501)
	}
	sa, err := auth.New(statelessStore{memstore.New()}, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests())
	if err != nil {
		t.Fatal(err)
	}
	ct.check(t, sa.Handler(), postJ("/auth/register", `{"username":"zed","password":"password-1","email":"zed@example.com"}`), well, 501)
}
