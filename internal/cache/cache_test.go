package cache

import (
	"fmt"
	"testing"
)

func TestBoundedCacheStaysBounded(t *testing.T) {
	c := New[int](64)
	for i := range 10000 {
		c.Put(fmt.Sprint(i), i)
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > 64+shardCount {
		t.Fatalf("cache holds %d entries, want about 64", n)
	}
	if v, ok := c.Get("9999"); !ok || v != 9999 {
		t.Fatalf("latest entry lost: %v %v", v, ok)
	}
	c.Remove("9999")
	if _, ok := c.Get("9999"); ok {
		t.Fatal("removed entry still there")
	}
	var disabled *Bounded[int]
	disabled.Put("a", 1)
	if _, ok := disabled.Get("a"); ok {
		t.Fatal("a disabled cache stored something")
	}
}
