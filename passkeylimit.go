package auth

import (
	"context"
	"errors"
	"log/slog"
)

// Budget names ([ThrottledError.Budget]) of passkey logins; each is also
// the key prefix of its budget.
const (
	budgetPasskeyBegin = "passkey_begin" // ceremonies begun
	budgetPasskeyLogin = "passkey_login" // ceremonies that failed
)

// passkeyBudgets are the per-address budgets of passkey logins
// ([WithPasskeyLimits]); nil budgets are off.
type passkeyBudgets struct {
	begun, failed *addrBudget
}

// newPasskeyBudgets builds the budgets that c describes: the given
// limiters, or in-memory ones on c's clock.
func newPasskeyBudgets(c *config, keys keyer) (*passkeyBudgets, error) {
	begun, failed := c.mfa.passkeyBegunL, c.mfa.passkeyFailedL
	if !c.mfa.customPasskeyLimiters {
		var err error
		if begun, err = memoryLimiter(c.mfa.passkeyBegun, c); err != nil {
			return nil, err
		}
		if failed, err = memoryLimiter(c.mfa.passkeyFailed, c); err != nil {
			return nil, err
		}
	}
	b := &passkeyBudgets{}
	if begun != nil {
		b.begun = &addrBudget{kind: budgetPasskeyBegin, l: begun, keys: keys}
	}
	if failed != nil {
		b.failed = &addrBudget{kind: budgetPasskeyLogin, l: failed, keys: keys}
	}
	return b, nil
}

// ThrottlePasskeyBegin spends one attempt of the client address's budget
// of passkey logins begun ([WithPasskeyLimits]), for the passkey plug-in's
// login/begin endpoint, which anyone may call and which makes a ceremony
// each time. It returns a [*ThrottledError] (Budget "passkey_begin") when
// none is left, and an error wrapping [ErrUnavailable] when the limiter
// fails. A context without a client address (one that did not come
// through [Authenticator.Handler], see [ContextWithClient]) is not
// limited.
func (a *Authenticator) ThrottlePasskeyBegin(ctx context.Context) error {
	return a.passkeyBudgets.begun.take(ctx)
}

// ThrottlePasskeyLogin runs finish, which completes a passkey login, under
// the client address's budget of failed passkey logins
// ([WithPasskeyLimits]): when the budget is spent it returns a
// [*ThrottledError] (Budget "passkey_login") without calling finish, and an
// error from finish that matches [ErrInvalidCode] (as [ErrInvalidPasskey]
// does) is charged to it. A context without a client address is not
// limited.
func (a *Authenticator) ThrottlePasskeyLogin(ctx context.Context, finish func(ctx context.Context) (TokenPair, error)) (TokenPair, error) {
	b := a.passkeyBudgets.failed
	if err := b.check(ctx); err != nil {
		return TokenPair{}, err
	}
	pair, err := finish(ctx)
	if errors.Is(err, ErrInvalidCode) {
		b.charge(ctx, a.throttle.logger)
		e := event(ctx, nil)
		e.Err = err
		a.report(ctx, slog.LevelInfo, "auth: passkey login failed", a.cfg.hooks.LoginFailed, e)
	}
	return pair, err
}
