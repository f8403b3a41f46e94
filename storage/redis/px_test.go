package redis

import (
	"testing"
	"time"
)

func TestPX(t *testing.T) {
	tests := []struct {
		ttl     time.Duration
		want    time.Duration
		wantErr bool
	}{
		{time.Nanosecond, time.Millisecond, false},
		{time.Millisecond, time.Millisecond, false},
		{1500 * time.Microsecond, 2 * time.Millisecond, false},
		{time.Second, time.Second, false},
		{90 * time.Second, 90 * time.Second, false},
		{0, 0, true},
		{-time.Millisecond, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.ttl.String(), func(t *testing.T) {
			got, err := px("put", tt.ttl)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("px(%v) = %v, %v, want %v, error %v", tt.ttl, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
