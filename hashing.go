package auth

import (
	"context"
	"errors"
	"time"
)

// hashSlots bounds how many argon2id derivations run at once. Each one holds
// PasswordParams.Memory KiB (64 MiB at the defaults) until it finishes, so
// without a bound a burst of logins is a burst of memory: 64 concurrent
// logins took a 2-core machine to 4 GiB.
type hashSlots struct {
	slots chan struct{}
	wait  time.Duration
}

func newHashSlots(n int, wait time.Duration) *hashSlots {
	return &hashSlots{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting at most s.wait for one. It returns
// [ErrBusy] when the wait runs out and the context's error when ctx ends
// first.
func (s *hashSlots) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	if s.wait <= 0 {
		return ErrBusy
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquire takes a slot only if one is free now.
func (s *hashSlots) tryAcquire() bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *hashSlots) release() { <-s.slots }

// boundedKDF returns a kdf that runs a.kdf inside a hash slot.
func (a *Authenticator) boundedKDF(ctx context.Context) kdf {
	return func(password string, salt []byte, p PasswordParams) ([]byte, error) {
		if err := a.hashSlots.acquire(ctx); err != nil {
			return nil, err
		}
		defer a.hashSlots.release()
		return a.kdf(password, salt, p)
	}
}

// hash makes a PHC hash of password with the current parameters, in a hash
// slot.
func (a *Authenticator) hash(ctx context.Context, password string) (string, error) {
	return hashPassword(password, a.cfg.passwordParams, a.boundedKDF(ctx))
}

// verify checks password against the stored hash encoded, in a hash slot.
// It costs one derivation whatever the outcome: an unusable stored hash is
// checked against the dummy hash as well, so it answers no faster than a
// wrong password. err wraps [ErrInvalidHash] for an unusable hash, and is
// [ErrBusy] or a context error when no slot could be had.
func (a *Authenticator) verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	derive := a.boundedKDF(ctx)
	ok, needsRehash, err = verifyPassword(password, encoded, a.cfg.passwordParams, derive)
	if errors.Is(err, ErrInvalidHash) {
		if _, _, derr := verifyPassword(password, a.dummyHash, a.cfg.passwordParams, derive); derr != nil {
			return false, false, derr
		}
	}
	return ok, needsRehash, err
}
