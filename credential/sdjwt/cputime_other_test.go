//go:build !unix

package sdjwt_test

import "time"

func cpuTime() time.Duration { return 0 }
