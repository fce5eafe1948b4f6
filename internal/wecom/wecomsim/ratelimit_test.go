package wecomsim

import (
	"testing"
	"time"
)

func TestRateLimitMinuteBan(t *testing.T) {
	e := newEnv(t, Options{CorpPerMinute: 3, IPPerMinute: -1, IPPerHour: -1})
	get := func() result { return e.get("department/get", map[string]string{"id": "1"}) }
	for i := 0; i < 3; i++ {
		must(t, get(), 0, "under limit")
	}
	must(t, get(), 45009, "4th call in the minute")
	must(t, e.get("department/simplelist", nil), 0, "limits are per API")

	// The ban lasts the whole window, even though the sliding count would
	// have dropped by then.
	e.clock.Advance(59 * time.Second)
	must(t, get(), 45009, "still banned at 59 s")
	e.clock.Advance(time.Second)
	must(t, get(), 0, "ban over at 60 s")
}

func TestMaxWindowCount(t *testing.T) {
	e := newEnv(t, Options{CorpPerMinute: 3, CorpPerHour: 5, IPPerMinute: -1, IPPerHour: -1})
	get := func() result { return e.get("department/get", map[string]string{"id": "1"}) }
	for range 3 {
		must(t, get(), 0, "under limit")
	}
	must(t, get(), 45009, "refused calls are not counted")
	e.clock.Advance(time.Minute)
	must(t, get(), 0, "next minute")
	for _, tc := range []struct {
		api    string
		window time.Duration
		want   int
	}{
		{"department/get", time.Minute, 3},
		{"department/get", time.Hour, 4},
		{"department/get", time.Second, -1},
		{"user/get", time.Minute, 0},
	} {
		if got := e.sim.MaxWindowCount(tc.api, tc.window); got != tc.want {
			t.Errorf("MaxWindowCount(%s, %v) = %d, want %d", tc.api, tc.window, got, tc.want)
		}
	}
}

func TestRateLimitSliding(t *testing.T) {
	e := newEnv(t, Options{CorpPerMinute: 2, IPPerMinute: -1, IPPerHour: -1})
	get := func() result { return e.get("department/get", map[string]string{"id": "1"}) }
	must(t, get(), 0, "1")
	e.clock.Advance(40 * time.Second)
	must(t, get(), 0, "2")
	e.clock.Advance(21 * time.Second) // the first call has left the window
	must(t, get(), 0, "3 after sliding")
}

func TestRateLimitHourBan(t *testing.T) {
	e := newEnv(t, Options{CorpPerMinute: -1, CorpPerHour: 4, IPPerMinute: -1, IPPerHour: -1})
	get := func() result { return e.get("department/get", map[string]string{"id": "1"}) }
	for i := 0; i < 4; i++ {
		must(t, get(), 0, "under hourly limit")
		e.clock.Advance(5 * time.Minute)
	}
	must(t, get(), 45009, "5th call in the hour")
	e.clock.Advance(59 * time.Minute)
	// The token was fetched an hour ago; keep the test about rate limits.
	delete(e.tokens, editSecret)
	must(t, get(), 45009, "hour ban holds at 59 min")
	e.clock.Advance(time.Minute)
	must(t, get(), 0, "hour ban over")
}

func TestRateLimitPerIP(t *testing.T) {
	e := newEnv(t, Options{CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: 2})
	must(t, e.getToken(testCorp, editSecret), 0, "gettoken 1")
	must(t, e.getToken(testCorp, editSecret), 0, "gettoken 2")
	must(t, e.getToken(testCorp, editSecret), 45009, "gettoken is rate limited too")
	e.clock.Advance(time.Minute)
	must(t, e.get("user/simplelist", map[string]string{"department_id": "1"}), 0, "1")
	must(t, e.get("user/simplelist", map[string]string{"department_id": "1"}), 0, "2")
	must(t, e.get("user/simplelist", map[string]string{"department_id": "1"}), 45009, "IP limit")
}
