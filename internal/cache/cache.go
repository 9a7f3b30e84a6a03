// Package cache holds the bounded, sharded map that the Authenticator keeps
// its verified tokens and user state in.
package cache

import (
	"hash/maphash"
	"sync"
)

// Bounded is a concurrent map with a fixed capacity, split into shards
// so that parallel readers rarely meet on one lock. When a shard is full an
// insert evicts an arbitrary entry (Go's map iteration order), which keeps
// memory bounded without bookkeeping on the read path. It starts no
// goroutines; stale entries are the caller's to recognize.
type Bounded[V any] struct {
	seed   maphash.Seed
	shards []shard[V]
	limit  int // entries per shard
}

type shard[V any] struct {
	mu sync.RWMutex
	m  map[string]V
	_  [40]byte // keep shards on separate cache lines
}

const shardCount = 16

// New returns a cache for about size entries, or nil (a cache
// that stores nothing) when size is 0.
func New[V any](size int) *Bounded[V] {
	if size <= 0 {
		return nil
	}
	limit := max(1, (size+shardCount-1)/shardCount)
	c := &Bounded[V]{seed: maphash.MakeSeed(), shards: make([]shard[V], shardCount), limit: limit}
	for i := range c.shards {
		c.shards[i].m = make(map[string]V)
	}
	return c
}

// shardOf picks a key's shard from its last bytes only: keys here are tokens,
// whose tails are signature bytes, and user IDs, whose tails are random, so
// a short suffix spreads them as well as the whole key, at a fraction of
// the cost of hashing a token of several hundred bytes. The map hashes the
// whole key anyway.
func (c *Bounded[V]) shardOf(key string) *shard[V] {
	const tail = 16
	if len(key) > tail {
		key = key[len(key)-tail:]
	}
	return &c.shards[maphash.String(c.seed, key)%shardCount]
}

// Get returns the value stored under key, if any. A nil cache has none.
func (c *Bounded[V]) Get(key string) (v V, ok bool) {
	if c == nil {
		return v, false
	}
	s := c.shardOf(key)
	s.mu.RLock()
	v, ok = s.m[key]
	s.mu.RUnlock()
	return v, ok
}

// Put stores v under key, evicting an arbitrary entry of a full shard.
func (c *Bounded[V]) Put(key string, v V) { c.PutUnless(key, v, nil) }

// PutUnless stores v unless keep reports that the entry already there should
// stay; the check and the store happen under one lock.
func (c *Bounded[V]) PutUnless(key string, v V, keep func(old V) bool) {
	if c == nil {
		return
	}
	s := c.shardOf(key)
	s.mu.Lock()
	old, exists := s.m[key]
	if exists && keep != nil && keep(old) {
		s.mu.Unlock()
		return
	}
	if !exists && len(s.m) >= c.limit {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[key] = v
	s.mu.Unlock()
}

// Remove deletes the entry under key, if any.
func (c *Bounded[V]) Remove(key string) {
	if c == nil {
		return
	}
	s := c.shardOf(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}
