package dpop

import (
	"container/heap"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// MemoryReplay is a [ReplayCache] in memory, for one instance. It holds at
// most about size keys; an entry leaves when it expires, which is checked
// on insertion, so it starts no goroutine. When it is full of live
// entries the one closest to expiring is dropped: a flood of proofs can
// then let an old proof through in the last moments of its lifetime, but
// never grow memory.
type MemoryReplay struct {
	seed   maphash.Seed
	shards [replayShards]replayShard
	limit  int
	clock  func() time.Time
}

const replayShards = 16

type replayShard struct {
	mu   sync.Mutex
	keys map[string]time.Time
	heap expiryHeap
}

// NewMemoryReplay returns a cache for about size keys.
func NewMemoryReplay(size int, clock func() time.Time) *MemoryReplay {
	m := &MemoryReplay{seed: maphash.MakeSeed(), limit: max(1, (size+replayShards-1)/replayShards), clock: clock}
	for i := range m.shards {
		m.shards[i].keys = make(map[string]time.Time)
	}
	return m
}

// Use implements [ReplayCache].
func (m *MemoryReplay) Use(_ context.Context, key string, expires time.Time) (bool, error) {
	now := m.clock()
	s := &m.shards[maphash.String(m.seed, key)%replayShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.keys[key]; ok && now.Before(exp) {
		return false, nil
	}
	for len(s.heap) > 0 && (!now.Before(s.heap[0].expires) || len(s.keys) >= m.limit) {
		e := heap.Pop(&s.heap).(expiry)
		if s.keys[e.key].Equal(e.expires) {
			delete(s.keys, e.key)
		}
	}
	s.keys[key] = expires
	heap.Push(&s.heap, expiry{key: key, expires: expires})
	return true, nil
}

// Len returns how many keys are held, for tests.
func (m *MemoryReplay) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.keys)
		s.mu.Unlock()
	}
	return n
}

type expiry struct {
	key     string
	expires time.Time
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
