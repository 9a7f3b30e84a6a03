package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/auth/internal/phc"
	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id parameters. The defaults, from
// [DefaultPasswordParams], are RFC 9106's second recommended option: the same
// parameters argon2-cffi (from 21.2) and pwdlib produce, so hashes brought over
// from a FastAPI app verify without a rehash.
type PasswordParams struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes.
	KeyLength uint32
}

// DefaultPasswordParams returns m=65536 KiB, t=3, p=4, a 16-byte salt and a
// 32-byte key. Hashing at these costs 64 MiB of memory for the duration of the
// hash (about 100 ms on one core of a current server).
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLength: 16, KeyLength: 32}
}

// validate checks p against OWASP's minimum for argon2id (m=19 MiB with t=2,
// or an equivalent memory-time trade-off down to m=7 MiB with t=5) and the
// decoding bounds.
func (p PasswordParams) validate() error {
	switch {
	case p.Threads < 1:
		return configErr(ErrInvalidConfig, "auth: argon2id threads must be at least 1")
	case p.Memory < 7*1024 || uint64(p.Memory)*uint64(p.Time) < 5*7*1024:
		return configErr(ErrInvalidConfig, "auth: argon2id memory %d KiB with t=%d is below the OWASP minimum (19456 KiB with t=2, or 7168 KiB with t=5)", p.Memory, p.Time)
	case p.SaltLength < 16:
		return configErr(ErrInvalidConfig, "auth: argon2id salt length must be at least 16 bytes")
	case p.KeyLength < 32:
		return configErr(ErrInvalidConfig, "auth: argon2id key length must be at least 32 bytes")
	}
	return phc.Params(p).CheckBounds()
}

// kdf derives an argon2id key. The Authenticator runs every derivation
// through one, so that it can bound how many run at once (see hashSlots).
type kdf func(password string, salt []byte, p PasswordParams) ([]byte, error)

// argon2id is the kdf that does the work, unbounded.
func argon2id(password string, salt []byte, p PasswordParams) ([]byte, error) {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength), nil
}

// hashPassword derives a new argon2id hash of password with a fresh random
// salt and encodes it as a PHC string.
func hashPassword(password string, p PasswordParams, derive kdf) (string, error) {
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read random salt: %w", err)
	}
	key, err := derive(password, salt, p)
	if err != nil {
		return "", err
	}
	return phc.Encode(phc.Params(p), salt, key), nil
}

// verifyPassword reports whether password matches the PHC string encoded.
// needsRehash is true when the match succeeded but the hash was made with
// parameters other than current. A malformed hash is an error wrapping
// ErrInvalidHash, never a panic; an error from derive is passed on.
func verifyPassword(password, encoded string, current PasswordParams, derive kdf) (ok, needsRehash bool, err error) {
	pp, salt, key, err := phc.Decode(encoded)
	if err != nil {
		return false, false, err
	}
	p := PasswordParams(pp)
	got, err := derive(password, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != current, nil
}

// dummyHash returns a well-formed hash with the given parameters that no
// password matches (its key is random, not derived). Verifying against it
// costs exactly what verifying against a real hash costs, which keeps the
// unknown-user path as slow as the wrong-password path.
func dummyHash(p PasswordParams) (string, error) {
	buf := make([]byte, p.SaltLength+p.KeyLength)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("auth: read random bytes: %w", err)
	}
	return phc.Encode(phc.Params(p), buf[:p.SaltLength], buf[p.SaltLength:]), nil
}

// hashSlots bounds how many argon2id derivations run at once. Each one holds
// PasswordParams.Memory KiB (64 MiB at the defaults) until it finishes, so
// without a bound a burst of logins is a burst of memory: 64 concurrent
// logins took a 2-core machine to 4 GiB.
//
// A caller may ask to leave some slots free (keep): registration keeps one,
// so that a flood of sign-ups, which anyone can send, never takes the last
// slot from logins.
type hashSlots struct {
	wait time.Duration

	mu    sync.Mutex
	free  int
	freed chan struct{} // closed, and replaced, whenever a slot is freed
}

func newHashSlots(n int, wait time.Duration) *hashSlots {
	return &hashSlots{free: n, wait: wait, freed: make(chan struct{})}
}

// acquire takes a slot, waiting at most s.wait for one. It returns
// [ErrBusy] when the wait runs out and the context's error when ctx ends
// first.
func (s *hashSlots) acquire(ctx context.Context) error { return s.acquireKeeping(ctx, 0) }

// acquireKeeping is acquire that takes a slot only while more than keep are
// free.
func (s *hashSlots) acquireKeeping(ctx context.Context, keep int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	freed, ok := s.take(keep)
	if ok {
		return nil
	}
	if s.wait <= 0 {
		return ErrBusy
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	for {
		select {
		case <-freed:
			if freed, ok = s.take(keep); ok {
				return nil
			}
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// take takes a slot if more than keep are free; otherwise it returns a
// channel that is closed when one is freed.
func (s *hashSlots) take(keep int) (freed <-chan struct{}, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free > keep {
		s.free--
		return nil, true
	}
	return s.freed, false
}

// tryAcquire takes a slot only if one is free now.
func (s *hashSlots) tryAcquire() bool {
	_, ok := s.take(0)
	return ok
}

func (s *hashSlots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free++
	close(s.freed)
	s.freed = make(chan struct{})
}

// boundedKDF returns a kdf that runs a.kdf inside a hash slot, taken while
// more than keep slots are free.
func (a *Authenticator) boundedKDF(ctx context.Context, keep int) kdf {
	return func(password string, salt []byte, p PasswordParams) ([]byte, error) {
		if err := a.hashSlots.acquireKeeping(ctx, keep); err != nil {
			return nil, err
		}
		defer a.hashSlots.release()
		return a.kdf(password, salt, p)
	}
}

// hash makes a PHC hash of password with the current parameters, in a hash
// slot.
func (a *Authenticator) hash(ctx context.Context, password string) (string, error) {
	return hashPassword(password, a.cfg.passwordParams, a.boundedKDF(ctx, 0))
}

// hashForRegistration is hash for a new user: it leaves one slot free for
// logins (none when there is only one slot).
func (a *Authenticator) hashForRegistration(ctx context.Context, password string) (string, error) {
	keep := min(1, a.cfg.hashConcurrency-1)
	return hashPassword(password, a.cfg.passwordParams, a.boundedKDF(ctx, keep))
}

// verifyWith checks password against the stored hash encoded, deriving
// with derive. It costs one derivation whatever the outcome: an unusable
// stored hash is checked against the dummy hash as well, so it answers no
// faster than a wrong password. err wraps [ErrInvalidHash] for an unusable
// hash, and is whatever derive returned when it failed.
func (a *Authenticator) verifyWith(password, encoded string, derive kdf) (ok, needsRehash bool, err error) {
	ok, needsRehash, err = verifyPassword(password, encoded, a.cfg.passwordParams, derive)
	if errors.Is(err, ErrInvalidHash) {
		if _, _, derr := verifyPassword(password, a.dummyHash, a.cfg.passwordParams, derive); derr != nil {
			return false, false, derr
		}
	}
	return ok, needsRehash, err
}

// verifyAttempt is verifyWith for a login or a password change, attempt
// at, in a hashing slot (so it may fail with [ErrBusy] or a context error).
// Holding the slot, it checks at's budgets again, and it charges a wrong
// password (or an unusable hash) to them before it frees the slot, so that
// at most the hashing concurrency of checks are ever between a budget's
// check and its charge: that bounds how far concurrent guesses can
// overshoot a burst. A throttled attempt returns a [*ThrottledError]
// without a derivation.
func (a *Authenticator) verifyAttempt(ctx context.Context, at *attempt, password, encoded string) (ok, needsRehash bool, err error) {
	if err := a.hashSlots.acquire(ctx); err != nil {
		return false, false, err
	}
	defer a.hashSlots.release()
	if err := at.check(ctx); err != nil {
		return false, false, err
	}
	ok, needsRehash, err = a.verifyWith(password, encoded, a.kdf)
	if (err == nil && !ok) || errors.Is(err, ErrInvalidHash) {
		at.failed(ctx)
	}
	return ok, needsRehash, err
}
