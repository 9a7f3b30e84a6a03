package auth

import (
	"sync"
	"time"
)

// Test-only access to the hashing seam, for the black-box tests in package
// auth_test. Nothing here is part of the API: _test.go files are not built
// into the package.

// HashProbe watches the argon2id derivations of one Authenticator: how many
// ran, how many ran at once, and, when held, makes them wait.
type HashProbe struct {
	mu       sync.Mutex
	count    int
	inFlight int
	peak     int
	gate     chan struct{}
	started  chan struct{}
}

// ProbeHashes installs a probe on a. Call it before a is used by more than
// one goroutine.
func ProbeHashes(a *Authenticator) *HashProbe {
	p := &HashProbe{}
	next := a.kdf
	a.kdf = func(password string, salt []byte, params PasswordParams) ([]byte, error) {
		p.mu.Lock()
		p.count++
		p.inFlight++
		p.peak = max(p.peak, p.inFlight)
		gate, started := p.gate, p.started
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.inFlight--
			p.mu.Unlock()
		}()
		if gate != nil {
			started <- struct{}{}
			<-gate
		}
		return next(password, salt, params)
	}
	return p
}

// Count returns how many derivations have started.
func (p *HashProbe) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Peak returns the most derivations that ran at once.
func (p *HashProbe) Peak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// Hold makes derivations that start from now on wait, inside their hashing
// slot, until Release. The returned channel receives once as each starts.
func (p *HashProbe) Hold() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = make(chan struct{})
	p.started = make(chan struct{}, 1024)
	return p.started
}

// Release lets held derivations finish and stops holding new ones.
func (p *HashProbe) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

// Len returns how many keys m holds.
func (m *memLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// NewMemoryLimiter exposes the in-memory limiter to the black-box tests.
func NewMemoryLimiter(limit RateLimit, maxKeys int, now func() time.Time) (*memLimiter, error) {
	return newMemLimiter(limit, maxKeys, now)
}
