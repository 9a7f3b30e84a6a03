package auth

import (
	"hash/maphash"
	"sync"
)

// boundedCache is a concurrent map with a fixed capacity, split into shards
// so that parallel readers rarely meet on one lock. When a shard is full an
// insert evicts an arbitrary entry (Go's map iteration order), which keeps
// memory bounded without bookkeeping on the read path. It starts no
// goroutines; stale entries are the caller's to recognize.
type boundedCache[V any] struct {
	seed   maphash.Seed
	shards []cacheShard[V]
	limit  int // entries per shard
}

type cacheShard[V any] struct {
	mu sync.RWMutex
	m  map[string]V
	_  [40]byte // keep shards on separate cache lines
}

const cacheShards = 16

// newBoundedCache returns a cache for about size entries, or nil (a cache
// that stores nothing) when size is 0.
func newBoundedCache[V any](size int) *boundedCache[V] {
	if size <= 0 {
		return nil
	}
	limit := max(1, (size+cacheShards-1)/cacheShards)
	c := &boundedCache[V]{seed: maphash.MakeSeed(), shards: make([]cacheShard[V], cacheShards), limit: limit}
	for i := range c.shards {
		c.shards[i].m = make(map[string]V)
	}
	return c
}

// shard picks a key's shard from its last bytes only: keys here are tokens,
// whose tails are signature bytes, and user IDs, whose tails are random, so
// a short suffix spreads them as well as the whole key, at a fraction of
// the cost of hashing a token of several hundred bytes. The map hashes the
// whole key anyway.
func (c *boundedCache[V]) shard(key string) *cacheShard[V] {
	const tail = 16
	if len(key) > tail {
		key = key[len(key)-tail:]
	}
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

func (c *boundedCache[V]) get(key string) (v V, ok bool) {
	if c == nil {
		return v, false
	}
	s := c.shard(key)
	s.mu.RLock()
	v, ok = s.m[key]
	s.mu.RUnlock()
	return v, ok
}

func (c *boundedCache[V]) put(key string, v V) { c.putUnless(key, v, nil) }

// putUnless stores v unless keep reports that the entry already there should
// stay; the check and the store happen under one lock.
func (c *boundedCache[V]) putUnless(key string, v V, keep func(old V) bool) {
	if c == nil {
		return
	}
	s := c.shard(key)
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

func (c *boundedCache[V]) remove(key string) {
	if c == nil {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}
