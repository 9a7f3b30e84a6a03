package auth_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// BenchmarkConcurrentLoginMemory sends a burst of concurrent logins at one
// Authenticator with the DEFAULT argon2id parameters (64 MiB a hash) and
// reports the peak heap during the burst, next to the bound the hashing
// limit promises: limit × 64 MiB + 64 MiB. It is heavy (seconds of CPU and,
// unbounded, gigabytes), so it runs only with -bench:
//
//	go test -run '^$' -bench ConcurrentLoginMemory -benchtime 1x .
//
// The unbounded comparison is capped at 64 concurrent logins (about 4 GiB of
// argon2 memory live at once, more with GC headroom): 200 unbounded would be
// 12.5 GiB live, too close to a 24 GiB machine.
func BenchmarkConcurrentLoginMemory(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, bc := range []struct {
		name          string
		logins, limit int
		wait          time.Duration
	}{
		{"bounded/200-logins", 200, procs, time.Hour},
		{"bounded/200-logins/default-wait", 200, procs, 0},
		{"bounded/64-logins", 64, procs, time.Hour},
		{"unbounded/64-logins", 64, 64, time.Hour},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := []auth.Option{
				auth.WithSecret(testSecret),
				auth.WithHashConcurrency(bc.limit),
				auth.WithLoginLimits(auth.RateLimit{}, auth.RateLimit{}),
			}
			if bc.wait > 0 {
				opts = append(opts, auth.WithHashWait(bc.wait))
			}
			a, err := auth.New(memstore.New(), opts...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := a.Register(ctx, "bench", "correct horse battery"); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			debug.FreeOSMemory()
			base := heapInUse()

			stop := make(chan struct{})
			peak := make(chan uint64)
			go samplePeakHeap(stop, peak)
			busy := 0
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				errs := make(chan error, bc.logins)
				for range bc.logins {
					wg.Go(func() {
						_, err := a.Login(ctx, "bench", "correct horse battery")
						errs <- err
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					switch {
					case errors.Is(err, auth.ErrBusy):
						busy++
					case err != nil:
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			close(stop)
			p := <-peak
			const mib = 1 << 20
			m := float64(auth.DefaultPasswordParams().Memory) * 1024 / mib
			b.ReportMetric(float64(p)/mib, "peak-heap-MiB")
			b.ReportMetric(float64(base)/mib, "base-heap-MiB")
			b.ReportMetric(float64(bc.limit)*m+64, "bound-MiB")
			b.ReportMetric(float64(busy)/float64(b.N), "busy/op")
		})
	}
}

// heapInUse is the heap's in-use bytes: live and not yet swept objects,
// plus the unused part of spans in use (MemStats.HeapInuse).
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// samplePeakHeap reads heapInUse every millisecond until stop is closed,
// then sends the peak. runtime/metrics reads do not stop the world.
func samplePeakHeap(stop <-chan struct{}, peak chan<- uint64) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	var p uint64
	for {
		p = max(p, heapInUse())
		select {
		case <-stop:
			peak <- p
			return
		case <-t.C:
		}
	}
}
