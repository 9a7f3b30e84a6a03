package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a reported percentile is at most 1/64 (1.6%) above the true one.
const subBits = 6

// histogram counts latencies in log-linear buckets of nanoseconds: memory
// stays fixed (32 KiB) however long a run lasts, unlike a slice of samples.
type histogram struct {
	counts [64 << subBits]uint64
	n      uint64
	max    time.Duration
}

// bucket maps v to its bucket: v itself below 2^subBits, then 2^subBits
// buckets for each power of two.
func bucket(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return (e+1)<<subBits + int(v>>e) - 1<<subBits
}

// upper returns the largest value that falls in bucket i.
func upper(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i>>subBits - 1
	m := uint64(i&(1<<subBits-1) + 1<<subBits)
	return (m+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency that a fraction q of the recorded ones do
// not exceed, rounded up to its bucket's bound; 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := min(max(uint64(math.Ceil(q*float64(h.n))), 1), h.n) // nearest rank
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(time.Duration(upper(i)), h.max)
		}
	}
	return h.max
}
