package wecomsim

import "time"

// counter is the sliding windows of calls for one (corp|IP, API) key. The
// minute window is exact: the times of the calls it admitted in the last
// 60 s, so R+1 calls inside any 60 s are caught however they fall across
// second boundaries (a client that admits a call a little late can put
// R+1 into a minute that whole-second buckets would not see). The hour
// keeps per-second buckets with a running sum, since holding 150,000
// times per key would cost more than the hour's edges tell.
type counter struct {
	// recent[head:] are the times (Unix nanoseconds, never decreasing) of
	// the calls of the last hour; recent[minHead:] those inside the
	// minute. recent[:head] are expired slots awaiting compaction.
	recent        []int64
	head, minHead int
	// buckets[bHead:] are the live hour buckets, ascending by sec; total
	// sums them.
	buckets  []bucket
	bHead    int
	total    int
	banUntil time.Time
	// peakMinute and peakHour are the largest minute and hour counts this
	// key ever held, for MaxWindowCount.
	peakMinute, peakHour int
}

type bucket struct {
	sec int64
	n   int
}

// minute is how many admitted calls lie in the window (now-60 s, now]: a
// call made exactly a minute ago no longer counts, as a ban of 60 s ends
// exactly a minute after it began.
func (c *counter) minute() int { return len(c.recent) - c.minHead }

// slide moves both windows to now. A clock that stepped back widens the
// minute again, but never resurrects what the hour already dropped.
func (c *counter) slide(now time.Time) {
	cut := now.Add(-time.Minute).UnixNano()
	for c.minHead < len(c.recent) && c.recent[c.minHead] <= cut {
		c.minHead++
	}
	for c.minHead > c.head && c.recent[c.minHead-1] > cut {
		c.minHead--
	}
	hourCut := now.Add(-time.Hour).UnixNano()
	for c.head < c.minHead && c.recent[c.head] <= hourCut {
		c.head++
	}
	if c.head > 0 && c.head >= len(c.recent)/2 {
		// Compact once half the slots are dead: O(1) amortised per call.
		n := copy(c.recent, c.recent[c.head:])
		c.recent = c.recent[:n]
		c.minHead -= c.head
		c.head = 0
	}
	secCut := now.Unix() - 3600
	for c.bHead < len(c.buckets) && c.buckets[c.bHead].sec <= secCut {
		c.total -= c.buckets[c.bHead].n
		c.bHead++
	}
	if c.bHead > 0 && c.bHead >= len(c.buckets)/2 {
		n := copy(c.buckets, c.buckets[c.bHead:])
		c.buckets = c.buckets[:n]
		c.bHead = 0
	}
}

func (c *counter) add(now time.Time) {
	t := now.UnixNano()
	if l := len(c.recent); l > c.head && c.recent[l-1] > t {
		// A clock that stepped back counts the call at the newest time
		// already seen, so the times stay ordered and the call stays
		// inside the minute the longer.
		t = c.recent[l-1]
	}
	c.recent = append(c.recent, t)
	sec := now.Unix()
	if l := len(c.buckets); l > c.bHead && c.buckets[l-1].sec >= sec {
		c.buckets[l-1].n++
	} else {
		c.buckets = append(c.buckets, bucket{sec: sec, n: 1})
	}
	c.total++
}

// limitKey names one counter: kind is "corp" or "ip", who the corpid or
// the caller's IP. A struct key spares building a string per call.
type limitKey struct {
	kind, who, api string
}

// limitedKey is one counter and the limits that apply to it.
type limitedKey struct {
	key             limitKey
	perMin, perHour int
}

// allowRate counts one call against the (corp, api) and (ip, api) windows.
// A call that would exceed a limit is refused and bans its key for the
// length of the breached window (60 s or 60 min); refused calls are not
// counted. An empty corp skips the corp window. Callers hold s.mu.
func (s *Server) allowRate(api, corp, ip string, now time.Time) bool {
	var keys [2]limitedKey
	nk := 0
	if corp != "" && (s.opts.CorpPerMinute != unlimited || s.opts.CorpPerHour != unlimited) {
		keys[nk] = limitedKey{limitKey{"corp", corp, api}, s.opts.CorpPerMinute, s.opts.CorpPerHour}
		nk++
	}
	if s.opts.IPPerMinute != unlimited || s.opts.IPPerHour != unlimited {
		keys[nk] = limitedKey{limitKey{"ip", ip, api}, s.opts.IPPerMinute, s.opts.IPPerHour}
		nk++
	}
	var counters [2]*counter
	ok := true
	for i, k := range keys[:nk] {
		c := s.limits[k.key]
		if c == nil {
			c = &counter{}
			s.limits[k.key] = c
		}
		counters[i] = c
		c.slide(now)
		if now.Before(c.banUntil) {
			ok = false
			continue
		}
		switch {
		case c.total+1 > k.perHour:
			c.banUntil = now.Add(time.Hour)
			ok = false
		case c.minute()+1 > k.perMin:
			c.banUntil = now.Add(time.Minute)
			ok = false
		}
	}
	if !ok {
		return false
	}
	for _, c := range counters[:nk] {
		c.add(now)
		c.peakMinute = max(c.peakMinute, c.minute())
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
	c := s.limits[limitKey{"corp", s.opts.CorpID, api}]
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
