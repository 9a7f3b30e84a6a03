package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// The email flows: verification, password reset, email change and magic
// links. Every request for mail spends the same work whether or not the
// address belongs to anyone (two budget takes, one look-up, one job
// queued); the job, on the mail queue's workers, then makes a token and
// sends the mail, or does nothing.

// Budget names of [ThrottledError] for the email flows.
const (
	budgetMail      = "mail"           // requests for mail per client address
	budgetRecipient = "mail_recipient" // requests for mail per address and kind
	budgetRedeem    = "redeem"         // failed token redemptions per client address
)

// mailFlows holds what the email flows need beyond the store: the mailer
// and its queue, the templates, and the budgets.
type mailFlows struct {
	a         *Authenticator
	mailer    Mailer
	queue     *mailQueue
	templates map[MailKind]MailTemplate
	base      string // the public URL without a trailing slash

	perEmail Limiter // nil when off
	perAddr  *addrBudget
	redeem   redeemBudget
	keys     keyer
}

// setupEmail finds the store's email abilities and, with a mailer, builds
// the mail flows. It is called by New.
func (a *Authenticator) setupEmail(store UserStore) error {
	c := &a.cfg.mail
	es, hasEmail := store.(EmailStore)
	ots, hasTokens := store.(OneTimeTokenStore)
	if hasEmail {
		a.emails = timedEmails{es, a.cfg.storeTimeout}
	}
	if hasTokens {
		a.onetime = timedOneTime{ots, a.cfg.storeTimeout}
	}
	if (c.mailer != nil || c.emailRequired) && !hasEmail {
		return configErr(ErrInvalidConfig, "auth: WithMailer and WithEmailRequired need a store that is an auth.EmailStore")
	}
	if c.mailer == nil {
		return nil
	}
	if !hasTokens {
		return configErr(ErrInvalidConfig, "auth: WithMailer needs a store that is an auth.OneTimeTokenStore")
	}
	m := &mailFlows{
		a: a, mailer: c.mailer, templates: c.templates,
		base: strings.TrimSuffix(c.publicURL, "/"),
		keys: a.signer.Derive("gatehouse mail budget keys"),
	}
	m.queue = newMailQueue(c.queue, a.failureLog)
	var err error
	m.perEmail, m.redeem.l = c.perEmailLimiter, c.redeemLimiter
	addr := c.perAddrLimit
	if !c.customMail {
		if m.perEmail, err = memoryLimiter(c.perEmail, &a.cfg); err != nil {
			return err
		}
		if addr, err = memoryLimiter(c.perAddr, &a.cfg); err != nil {
			return err
		}
	}
	if addr != nil {
		m.perAddr = &addrBudget{kind: budgetMail, l: addr, keys: m.keys}
	}
	if !c.customRedeem {
		if m.redeem.l, err = memoryLimiter(c.redeem, &a.cfg); err != nil {
			return err
		}
	}
	m.redeem.keys = m.keys
	a.mail = m
	return nil
}

// take spends one request of the client address in ctx and one of the
// canonical address for kind.
func (m *mailFlows) take(ctx context.Context, kind MailKind, canonical string) error {
	if err := m.perAddr.take(ctx); err != nil {
		return err
	}
	if m.perEmail == nil {
		return nil
	}
	wait, err := m.perEmail.Take(ctx, m.keys.key("mail:"+string(kind), canonical))
	switch {
	case err != nil:
		return joinErr(ErrUnavailable, err)
	case wait > 0:
		return &ThrottledError{RetryAfter: wait, Budget: budgetRecipient}
	}
	return nil
}

// deliver renders mail of kind for u, to the address to, and sends it.
func (m *mailFlows) deliver(ctx context.Context, kind MailKind, u *User, to, token, newEmail string) {
	d := MailData{Kind: kind, To: to, Username: u.Username, PublicURL: m.base, NewEmail: newEmail}
	if token != "" {
		d.Token = token
		d.Link = m.base + kind.linkPath() + "?token=" + url.QueryEscape(token)
		d.ExpiresIn = humanDuration(m.a.cfg.mail.ttl[kind])
	}
	msg, err := m.render(d)
	if err != nil {
		m.a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: rendering mail failed",
			slog.String("kind", string(kind)), slog.String("error", err.Error()))
		return
	}
	m.send(ctx, msg, u.ID)
}

// mailToken is the job of a request for a verification, reset or magic
// link: nothing for an unknown address (u is nil), a disabled user or an
// address verified already; otherwise a fresh token, mailed.
func (a *Authenticator) mailToken(ctx context.Context, kind MailKind, u *User) {
	if u == nil || u.Disabled || u.Email == "" || (kind == MailVerifyEmail && u.EmailVerified) {
		return
	}
	token, err := a.issueToken(ctx, u, kind, u.Email)
	if err != nil {
		a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: issuing a one-time token failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		return
	}
	a.mail.deliver(ctx, kind, u, u.Email, token, "")
}

// requestMail is the request path of forgot-password, request-verify-token
// and magic-link: the same steps whether or not the address is anyone's.
func (a *Authenticator) requestMail(ctx context.Context, kind MailKind, email string) error {
	if a.mail == nil {
		return ErrEmailUnsupported
	}
	var verr ValidationError
	canonical := validateEmail(&verr, "email", email)
	if err := verr.err(); err != nil {
		return err
	}
	if err := a.mail.take(ctx, kind, canonical); err != nil {
		return err
	}
	u, err := a.emails.UserByEmail(ctx, canonical)
	switch {
	case errors.Is(err, ErrUserNotFound):
		u = nil
	case err != nil:
		return a.storeErr("look up user by email", err)
	}
	a.mail.queue.enqueue(ctx, func(ctx context.Context) { a.mailToken(ctx, kind, u) })
	return nil
}

// RequestVerification mails a verification link to email if it is the
// unverified address of an enabled user. It returns nil whether or not
// that is so, after the same work, so that the answer says nothing about
// the address; the mail goes out from the mail queue. It returns a
// [*ValidationError] for a malformed address, a [*ThrottledError] when a
// budget of [WithMailLimits] is spent, and [ErrEmailUnsupported] without
// a mailer.
func (a *Authenticator) RequestVerification(ctx context.Context, email string) error {
	return a.requestMail(ctx, MailVerifyEmail, email)
}

// ForgotPassword mails a password reset link to email if it is the
// address of an enabled user, verified or not. It answers like
// [Authenticator.RequestVerification]: nil whether or not it is.
func (a *Authenticator) ForgotPassword(ctx context.Context, email string) error {
	return a.requestMail(ctx, MailResetPassword, email)
}

// RequestMagicLink mails a sign-in link to email if it is the address of
// an enabled user. It answers like [Authenticator.RequestVerification],
// and returns [ErrEmailUnsupported] unless [WithMagicLinks] is set.
func (a *Authenticator) RequestMagicLink(ctx context.Context, email string) error {
	if !a.cfg.mail.magicLinks {
		return ErrEmailUnsupported
	}
	return a.requestMail(ctx, MailMagicLink, email)
}

// ChangeEmail starts a change of user's address to newEmail after checking
// password: a confirmation link goes to newEmail and a notice to the old
// address, if any. The address changes only when the link is redeemed
// with [Authenticator.VerifyEmail]. Nothing is mailed to newEmail when it
// is another user's, and the answer is the same. It returns a
// [*ValidationError] for a malformed address, [ErrIncorrectPassword] for a
// wrong password (which counts against the login budget, as in
// [Authenticator.ChangePassword]), a [*ThrottledError] when a budget is
// spent, and [ErrEmailUnsupported] without a mailer.
func (a *Authenticator) ChangeEmail(ctx context.Context, user *User, newEmail, password string) error {
	if a.mail == nil {
		return ErrEmailUnsupported
	}
	var verr ValidationError
	canonical := validateEmail(&verr, "email", newEmail)
	if err := verr.err(); err != nil {
		return err
	}
	if err := a.mail.take(ctx, MailChangeEmail, canonical); err != nil {
		return err
	}
	u, err := a.checkCurrentPassword(ctx, user, password)
	if err != nil {
		return err
	}
	a.mail.queue.enqueue(ctx, func(ctx context.Context) { a.mailEmailChange(ctx, u, newEmail, canonical) })
	return nil
}

// mailEmailChange is the job of a change of address.
func (a *Authenticator) mailEmailChange(ctx context.Context, u *User, newEmail, canonical string) {
	if u.Disabled || (u.Email != "" && canonicalEmail(u.Email) == canonical) {
		return
	}
	switch other, err := a.emails.UserByEmail(ctx, canonical); {
	case err == nil && other.ID != u.ID:
		a.eventLog().LogAttrs(ctx, slog.LevelInfo, "auth: email change to an address that is taken; nothing mailed to it",
			slog.String("user_id", u.ID))
		// The old address gets its notice all the same, or its mailbox
		// would learn whether the new one is registered.
		if u.Email != "" {
			a.mail.deliver(ctx, MailEmailChangeNotice, u, u.Email, "", newEmail)
		}
		return
	case err != nil && !errors.Is(err, ErrUserNotFound):
		a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: looking up an address failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		return
	}
	token, err := a.issueToken(ctx, u, MailChangeEmail, newEmail)
	if err != nil {
		a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: issuing a one-time token failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		return
	}
	a.mail.deliver(ctx, MailChangeEmail, u, newEmail, token, "")
	if u.Email != "" {
		a.mail.deliver(ctx, MailEmailChangeNotice, u, u.Email, "", newEmail)
	}
}

// VerifyEmail redeems a token from a verification mail (the user's address
// is then verified) or from an email change confirmation (the address is
// then the new one, verified). It returns the updated user;
// [ErrOneTimeTokenInvalid] for a token that is malformed, unknown, used,
// expired, of another purpose or void; [ErrAlreadyVerified] when the
// address was verified meanwhile; an error wrapping [ErrEmailTaken] when
// the new address became another user's; and a [*ThrottledError] when the
// client's failure budget ([WithTokenRedeemLimit]) is spent.
func (a *Authenticator) VerifyEmail(ctx context.Context, token string) (*User, error) {
	var out *User
	err := a.redeem(ctx, token, func(purpose MailKind, hash string) error {
		if purpose != MailVerifyEmail && purpose != MailChangeEmail {
			return errBadOneTime
		}
		t, u, err := a.consume(ctx, hash, purpose)
		if err != nil {
			return err
		}
		if u.Disabled {
			return errBadOneTime
		}
		if purpose == MailVerifyEmail && u.EmailVerified {
			return ErrAlreadyVerified
		}
		next := *u
		if purpose == MailChangeEmail {
			next.Email = t.Email
		}
		if err := a.setEmail(ctx, &next, u.Email); err != nil {
			return err
		}
		e := event(ctx, &next)
		if purpose == MailChangeEmail {
			if err := a.onetime.DeleteOneTimeTokens(ctx, u.ID, ""); err != nil {
				a.eventLog().LogAttrs(ctx, slog.LevelWarn, "auth: deleting one-time tokens failed",
					slog.String("user_id", u.ID), slog.String("error", err.Error()))
			}
			a.report(ctx, slog.LevelInfo, "auth: email changed", a.cfg.hooks.EmailChanged, e)
		} else {
			a.report(ctx, slog.LevelInfo, "auth: email verified", a.cfg.hooks.EmailVerified, e)
		}
		out = &next
		return nil
	})
	return out, err
}

// setEmail writes next's address as verified now, conditional on the
// stored address still being prev.
func (a *Authenticator) setEmail(ctx context.Context, next *User, prev string) error {
	now := a.now()
	next.EmailVerified, next.EmailVerifiedAt, next.UpdatedAt = true, now, now
	switch err := a.emails.SetUserEmail(ctx, next, prev); {
	case errors.Is(err, ErrConflict), errors.Is(err, ErrUserNotFound):
		return errBadOneTime // the address changed since the token was issued
	case err != nil:
		return a.storeErr("set email", err)
	}
	a.remember(next, a.cfg.clock())
	return nil
}

// ResetPassword redeems a token from a password reset mail and sets
// password as the user's password. Every token and session of the user
// ends at once, as after [Authenticator.ChangePassword]. A password that
// breaks the rules returns a [*ValidationError] and leaves the token
// usable. It returns [ErrOneTimeTokenInvalid] for a bad token (see
// [Authenticator.VerifyEmail]), a [*ThrottledError] when the client's
// failure budget is spent, and [ErrBusy] when no hashing slot came free.
func (a *Authenticator) ResetPassword(ctx context.Context, token, password string) error {
	return a.redeem(ctx, token, func(purpose MailKind, hash string) error {
		if purpose != MailResetPassword {
			return errBadOneTime
		}
		t, err := a.onetime.OneTimeToken(ctx, hash)
		if errors.Is(err, ErrOneTimeTokenNotFound) {
			return errBadOneTime
		}
		if err != nil {
			return a.storeErr("look up one-time token", err)
		}
		u, err := a.checkToken(ctx, t, purpose)
		if err != nil {
			return err
		}
		if u.Disabled {
			return errBadOneTime
		}
		var verr ValidationError
		if err := a.validateNewPassword(ctx, &verr, "password", u.Username, password); err != nil {
			return err
		}
		if err := verr.err(); err != nil {
			return err
		}
		newHash, err := a.hash(ctx, password)
		if err != nil {
			return err
		}
		// The token is spent by the write itself: the binding check and
		// the new token version let exactly one of many concurrent resets
		// through, and void the token after it. Spending it first would
		// lose it when the write fails.
		next, err := a.modifyUser(ctx, u.ID, "reset password", func(cur *User) (bool, error) {
			if tokenBinding(cur) != t.Binding || cur.Disabled {
				return false, errBadOneTime
			}
			cur.PasswordHash = newHash
			cur.TokenVersion++
			return true, nil
		})
		if err != nil {
			return err
		}
		if err := a.onetime.DeleteOneTimeTokens(ctx, u.ID, ""); err != nil {
			a.eventLog().LogAttrs(ctx, slog.LevelWarn, "auth: deleting one-time tokens failed",
				slog.String("user_id", u.ID), slog.String("error", err.Error()))
		}
		a.report(ctx, slog.LevelInfo, "auth: password reset", a.cfg.hooks.PasswordChanged, event(ctx, next))
		return nil
	})
}

// LoginWithMagicLink redeems a token from a sign-in mail and logs its user
// in as [Authenticator.Login] does: the BeforeLogin and AfterLogin hooks
// run, a session starts, and the pair carries a device token. The link
// proves the user receives mail at the address, so an unverified address
// becomes verified. It never signs in a disabled user ([ErrUserDisabled]).
// Other errors are those of [Authenticator.VerifyEmail];
// [ErrEmailUnsupported] unless [WithMagicLinks] is set.
func (a *Authenticator) LoginWithMagicLink(ctx context.Context, token string) (TokenPair, error) {
	if !a.cfg.mail.magicLinks {
		return TokenPair{}, ErrEmailUnsupported
	}
	var pair TokenPair
	err := a.redeem(ctx, token, func(purpose MailKind, hash string) error {
		if purpose != MailMagicLink {
			return errBadOneTime
		}
		_, u, err := a.consume(ctx, hash, purpose)
		if err != nil {
			return err
		}
		if u.Disabled {
			return ErrUserDisabled
		}
		if err := before(ctx, a.cfg.hooks.BeforeLogin, event(ctx, u)); err != nil {
			return err
		}
		if !u.EmailVerified {
			claimed, err := a.claimByMagicLink(ctx, u)
			if err != nil {
				return err
			}
			next := *claimed
			if err := a.setEmail(ctx, &next, claimed.Email); err != nil {
				return err
			}
			a.report(ctx, slog.LevelInfo, "auth: email verified", a.cfg.hooks.EmailVerified, event(ctx, &next))
			u = &next
		}
		// A magic link is one factor, like a password: a user with a
		// second factor still has to show it.
		if err := a.secondFactorStep(ctx, u, amrEmailLink); err != nil {
			return err
		}
		pair, err = a.startSession(ctx, u, []string{amrEmailLink})
		return err
	})
	return pair, err
}

// claimByMagicLink starts afresh an account whose address a magic link
// proves for the first time: whoever chose its password never proved the
// address (someone may have registered first with another person's
// address), so the password stops working (a new one is set through
// forgot-password) and every earlier session, token and API key ends.
func (a *Authenticator) claimByMagicLink(ctx context.Context, u *User) (*User, error) {
	return a.modifyUser(ctx, u.ID, "claim by magic link", func(x *User) (bool, error) {
		unusable, err := dummyHash(a.cfg.passwordParams) // no password matches it
		if err != nil {
			return false, err
		}
		x.PasswordHash = unusable
		x.TokenVersion++
		return true, nil
	})
}

// amrEmailLink is the "amr" of a login by a link mailed to the user's
// address (RFC 8176 has no value for it; it allows others).
const amrEmailLink = "email"

// registrationEmail checks the email of a registration and returns the
// fields to store; it records a problem in v for a malformed address or,
// with [WithEmailRequired], a missing one.
func (a *Authenticator) registrationEmail(v *ValidationError, email string) (string, error) {
	if email == "" {
		if a.cfg.mail.emailRequired {
			v.add("email", "missing", "Field required")
		}
		return "", nil
	}
	if a.emails == nil {
		return "", ErrEmailUnsupported
	}
	validateEmail(v, "email", email)
	return email, nil
}

// registered queues the verification mail of a user who registered with
// an address, when a mailer is configured.
func (a *Authenticator) registered(ctx context.Context, u *User) {
	if a.mail == nil || u.Email == "" {
		return
	}
	cu := *u
	a.mail.queue.enqueue(ctx, func(ctx context.Context) { a.mailToken(ctx, MailVerifyEmail, &cu) })
}
