package wecomsim

import "time"

// counter is a sliding window of calls for one (corp|IP, API) key, kept
// as per-second buckets over the last hour so both the minute and the hour
// limit read from the same data. Running sums and two cursors into the
// bucket list make a call cost O(1) amortised instead of a walk over the
// window's buckets: each bucket is passed by each cursor once, except when
// the clock steps back and the minute cursor has to return.
type counter struct {
	// buckets[head:] are the live buckets, ascending by sec, none older
	// than an hour; buckets[:head] are expired slots awaiting compaction.
	buckets []bucket
	head    int
	// minHead is the first bucket inside the minute window as of the last
	// slide; minute sums buckets[minHead:] and total sums buckets[head:].
	minHead       int
	minute, total int
	banUntil      time.Time
	// peakMinute and peakHour are the largest minute and hour counts this
	// key ever held, for MaxWindowCount.
	peakMinute, peakHour int
}

type bucket struct {
	sec int64
	n   int
}

// slide moves both windows to now: the minute holds buckets newer than
// now-60 s, the hour drops buckets at or before now-1 h. Whole seconds are
// compared, as the bucket granularity implies.
func (c *counter) slide(now time.Time) {
	sec := now.Unix()
	minCut, hourCut := sec-60, sec-3600
	for c.minHead < len(c.buckets) && c.buckets[c.minHead].sec <= minCut {
		c.minute -= c.buckets[c.minHead].n
		c.minHead++
	}
	// A clock that stepped back widens the minute again, but never
	// resurrects what the hour already dropped.
	for c.minHead > c.head && c.buckets[c.minHead-1].sec > minCut {
		c.minHead--
		c.minute += c.buckets[c.minHead].n
	}
	// Everything the hour drops is older than the minute, so it lies
	// before minHead and minute is unaffected.
	for c.head < c.minHead && c.buckets[c.head].sec <= hourCut {
		c.total -= c.buckets[c.head].n
		c.head++
	}
	if c.head > 0 && c.head >= len(c.buckets)/2 {
		// Compact once half the slots are dead: O(1) amortised per call.
		n := copy(c.buckets, c.buckets[c.head:])
		c.buckets = c.buckets[:n]
		c.minHead -= c.head
		c.head = 0
	}
}

func (c *counter) add(now time.Time) {
	sec := now.Unix()
	if l := len(c.buckets); l > c.head && c.buckets[l-1].sec >= sec {
		// A clock that stepped back still counts into the newest bucket,
		// which is inside the minute (its sec is not below now's).
		c.buckets[l-1].n++
	} else {
		c.buckets = append(c.buckets, bucket{sec: sec, n: 1})
	}
	c.minute++
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
		case c.minute+1 > k.perMin:
			c.banUntil = now.Add(time.Minute)
			ok = false
		}
	}
	if !ok {
		return false
	}
	for _, c := range counters[:nk] {
		c.add(now)
		c.peakMinute = max(c.peakMinute, c.minute)
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
