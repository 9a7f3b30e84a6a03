package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Recovery codes: ten per user, each 16 characters of a 32-letter
// alphabet (80 random bits), shown as four groups of four.
//
// They are stored as keyed hashes (HMAC-SHA256 under a key derived from
// the encryption key, see secretBox), not argon2id. A code carries 80 bits
// of randomness, so a slow hash adds nothing against offline guessing
// that the key does not already give, while argon2id would cost a hashing
// slot per stored code on every attempt (a cheap way to exhaust the slots)
// and would need a code identifier to find the right hash. A keyed hash
// lets the store find and delete a code in one atomic step, which is what
// makes each code single-use across instances. Online guessing is bounded
// by the second-factor budgets ([WithMFALimits]).
const (
	recoveryCodeCount = 10
	recoveryCodeLen   = 16
	// recoveryAlphabet leaves out 0, 1, l and o, which are easily
	// misread.
	recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"
)

// newRecoveryCode returns a random code in its display form.
func newRecoveryCode() (string, error) {
	buf := make([]byte, recoveryCodeLen)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("auth: read random bytes: %w", err)
	}
	var b strings.Builder
	for i, c := range buf {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[c&31]) // 256 is a multiple of 32: no bias
	}
	return b.String(), nil
}

// normalizeRecoveryCode returns the canonical form of a typed code
// (lower case, without dashes or spaces), or "" when it cannot be one.
func normalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == '-' || r == ' ':
		case 'A' <= r && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
		if b.Len() > recoveryCodeLen {
			return ""
		}
	}
	if b.Len() != recoveryCodeLen {
		return ""
	}
	return b.String()
}

// newRecoveryCodes makes and stores ten new codes for the user, voiding
// the earlier ones, and returns them in display form.
func (a *Authenticator) newRecoveryCodes(ctx context.Context, cs CredentialStore, userID string) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([]string, recoveryCodeCount)
	for i := range codes {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		codes[i] = c
		hashes[i] = a.box.codeHashes(userID, normalizeRecoveryCode(c))[0]
	}
	if err := cs.SetRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, a.storeErr("store recovery codes", err)
	}
	return codes, nil
}

// useRecoveryCode spends the user's recovery code code. ok is false when
// the user has no such unused code.
func (a *Authenticator) useRecoveryCode(ctx context.Context, cs CredentialStore, userID, code string) (ok bool, err error) {
	norm := normalizeRecoveryCode(code)
	if norm == "" {
		return false, nil
	}
	for _, h := range a.box.codeHashes(userID, norm) {
		switch err := cs.UseRecoveryCode(ctx, userID, h); {
		case err == nil:
			return true, nil
		case !errors.Is(err, ErrCredentialNotFound):
			return false, a.storeErr("use recovery code", err)
		}
	}
	return false, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes by ten new
// ones, after a second factor (see [Authenticator.StepUp]; ctx must carry
// the user's authentication). It returns [ErrCredentialNotFound] when the
// user has no second factor to recover.
func (a *Authenticator) RegenerateRecoveryCodes(ctx context.Context, user *User, code string) ([]string, error) {
	cs, err := a.credentials()
	if err != nil {
		return nil, err
	}
	has, err := a.hasSecondFactor(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, ErrCredentialNotFound
	}
	if err := a.StepUp(ctx, code); err != nil {
		return nil, err
	}
	codes, err := a.newRecoveryCodes(ctx, cs, user.ID)
	if err != nil {
		return nil, err
	}
	a.report(ctx, slog.LevelInfo, "auth: recovery codes regenerated", a.cfg.hooks.RecoveryCodesRegenerated, event(ctx, user))
	return codes, nil
}

// RecoveryCodesLeft returns how many unused recovery codes the user has.
func (a *Authenticator) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	cs, err := a.credentials()
	if err != nil {
		return 0, err
	}
	n, err := cs.RecoveryCodeCount(ctx, userID)
	if err != nil {
		return 0, a.storeErr("count recovery codes", err)
	}
	return n, nil
}
