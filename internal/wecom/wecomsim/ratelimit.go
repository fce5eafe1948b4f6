package wecomsim

import "time"

// counter is a sliding window of calls for one (corp|IP, API) key, kept
// as per-second buckets over the last hour so both the minute and the hour
// limit read from the same data.
type counter struct {
	buckets  []bucket // ascending by sec, none older than an hour
	total    int      // sum of buckets
	banUntil time.Time
	// peakMinute and peakHour are the largest minute and hour counts this
	// key ever held, for MaxWindowCount.
	peakMinute, peakHour int
}

type bucket struct {
	sec int64
	n   int
}

func (c *counter) prune(now time.Time) {
	cut := now.Add(-time.Hour).Unix()
	i := 0
	for i < len(c.buckets) && c.buckets[i].sec <= cut {
		c.total -= c.buckets[i].n
		i++
	}
	if i > 0 {
		c.buckets = append(c.buckets[:0], c.buckets[i:]...)
	}
}

func (c *counter) lastMinute(now time.Time) int {
	cut := now.Add(-time.Minute).Unix()
	n := 0
	for i := len(c.buckets) - 1; i >= 0 && c.buckets[i].sec > cut; i-- {
		n += c.buckets[i].n
	}
	return n
}

func (c *counter) add(now time.Time) {
	sec := now.Unix()
	if l := len(c.buckets); l > 0 && c.buckets[l-1].sec >= sec {
		// A clock that stepped back still counts into the newest bucket.
		c.buckets[l-1].n++
	} else {
		c.buckets = append(c.buckets, bucket{sec: sec, n: 1})
	}
	c.total++
}

// limitedKey is one counter and the limits that apply to it.
type limitedKey struct {
	key             string
	perMin, perHour int
}

// allowRate counts one call against the (corp, api) and (ip, api) windows.
// A call that would exceed a limit is refused and bans its key for the
// length of the breached window (60 s or 60 min); refused calls are not
// counted. An empty corp skips the corp window. Callers hold s.mu.
func (s *Server) allowRate(api, corp, ip string, now time.Time) bool {
	keys := make([]limitedKey, 0, 2)
	if corp != "" && (s.opts.CorpPerMinute != unlimited || s.opts.CorpPerHour != unlimited) {
		keys = append(keys, limitedKey{"corp|" + corp + "|" + api, s.opts.CorpPerMinute, s.opts.CorpPerHour})
	}
	if s.opts.IPPerMinute != unlimited || s.opts.IPPerHour != unlimited {
		keys = append(keys, limitedKey{"ip|" + ip + "|" + api, s.opts.IPPerMinute, s.opts.IPPerHour})
	}
	counters := make([]*counter, len(keys))
	ok := true
	for i, k := range keys {
		c := s.limits[k.key]
		if c == nil {
			c = &counter{}
			s.limits[k.key] = c
		}
		counters[i] = c
		c.prune(now)
		if now.Before(c.banUntil) {
			ok = false
			continue
		}
		switch {
		case c.total+1 > k.perHour:
			c.banUntil = now.Add(time.Hour)
			ok = false
		case c.lastMinute(now)+1 > k.perMin:
			c.banUntil = now.Add(time.Minute)
			ok = false
		}
	}
	if !ok {
		return false
	}
	for _, c := range counters {
		c.add(now)
		c.peakMinute = max(c.peakMinute, c.lastMinute(now))
		c.peakHour = max(c.peakHour, c.total)
	}
	return true
}

// MaxWindowCount reports the most calls to api that the emulator's own
// per-corp counter ever held in one window, window being time.Minute or
// time.Hour (the two windows WeCom limits); any other window gives -1.
// Only accepted calls count, as for the limits themselves. With both corp
// limits switched off the counter does not exist and the answer is 0.
//
// It is the check a rate-limit benchmark needs: if this never exceeds
// the configured limit, the client never overfilled a window as the
// service sees it.
func (s *Server) MaxWindowCount(api string, window time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.limits["corp|"+s.opts.CorpID+"|"+api]
	switch {
	case window != time.Minute && window != time.Hour:
		return -1
	case c == nil:
		return 0
	case window == time.Minute:
		return c.peakMinute
	default:
		return c.peakHour
	}
}
