//go:build unix

package ldp_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system), so that
// benchmarks on a shared machine can report CPU per operation, which other
// processes do not inflate the way they inflate wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
