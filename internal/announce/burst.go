package announce

import (
	"context"
	"time"
)

// Announcer sends the frames of a burst announcing an address.
type Announcer interface {
	// Plan says how many frames a burst of count announcements has, and
	// how far apart they go for the parameter arp_interval.
	Plan(count int, interval time.Duration) (frames int, spacing time.Duration)
	// Announce sends frame i of a burst.
	Announce(i int) error
}

// Report says what a burst did, so that every burst can be logged with its
// outcome (resource-agents #958: failures used to be silent).
type Report struct {
	Sent   int
	Failed int
	// First is when the first frame left; zero if none did.
	First time.Time
	// Err is the first failure.
	Err error
}

// Burst sends frames from up to but not including to, spacing apart. The
// first goes at once unless wait is set. It stops early when ctx ends.
func Burst(ctx context.Context, a Announcer, from, to int, spacing time.Duration, wait bool) Report {
	var r Report
	t := time.NewTimer(0)
	if wait {
		t.Reset(spacing)
	}
	defer t.Stop()
	for i := from; i < to; i++ {
		if i > from {
			t.Reset(spacing)
		}
		select {
		case <-ctx.Done():
			return r
		case <-t.C:
		}
		now := time.Now()
		if err := a.Announce(i); err != nil {
			r.Failed++
			if r.Err == nil {
				r.Err = err
			}
			continue
		}
		if r.Sent == 0 {
			r.First = now
		}
		r.Sent++
	}
	return r
}
