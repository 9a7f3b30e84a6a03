//go:build !unix

package peers_test

import "time"

// cpuTime is not measured here; serve then reports wall time only.
func cpuTime() (time.Duration, bool) { return 0, false }
