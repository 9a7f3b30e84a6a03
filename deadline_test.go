package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// deadlineStore records whether the prunes' contexts carry a deadline.
type deadlineStore struct {
	*memstore.Store
	deadlines map[string]bool
}

func (s *deadlineStore) note(ctx context.Context, name string) {
	_, ok := ctx.Deadline()
	s.deadlines[name] = ok
}

func (s *deadlineStore) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	s.note(ctx, "sessions")
	return s.Store.DeleteSessions(ctx, before)
}

func (s *deadlineStore) DeleteNonces(ctx context.Context, before time.Time) (int, error) {
	s.note(ctx, "nonces")
	return s.Store.DeleteNonces(ctx, before)
}

func (s *deadlineStore) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	s.note(ctx, "audit")
	return s.Store.DeleteAudit(ctx, before)
}

func (s *deadlineStore) DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time) (int, error) {
	s.note(ctx, "one-time tokens")
	return s.Store.DeleteExpiredOneTimeTokens(ctx, before)
}

// TestPrunesOutliveStoreTimeout: the prunes run in batches that may take
// minutes (see sqlstore.WithPruneBatch), so none of them is cut off by
// WithStoreTimeout; the caller's context bounds them.
func TestPrunesOutliveStoreTimeout(t *testing.T) {
	s := &deadlineStore{Store: memstore.New(), deadlines: map[string]bool{}}
	a, err := auth.New(s, auth.WithSecret(testSecret), auth.WithInsecureFastHashingForTests(), auth.WithStoreTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, prune := range map[string]func(context.Context) (int, error){
		"sessions":        a.PruneSessions,
		"nonces":          a.PruneNonces,
		"audit":           func(ctx context.Context) (int, error) { return a.PruneAudit(ctx, time.Hour) },
		"one-time tokens": a.PruneOneTimeTokens,
	} {
		if _, err := prune(ctx); err != nil {
			t.Errorf("prune %s: %v", name, err)
		}
		if deadline, ok := s.deadlines[name]; !ok || deadline {
			t.Errorf("prune %s: reached the store %v, with a deadline %v; want reached, without", name, ok, deadline)
		}
	}
}
