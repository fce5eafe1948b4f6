package schedule

import (
	"fmt"
	"time"
	_ "time/tzdata" // CRON_TZ=Asia/Shanghai must work in a scratch container with no zoneinfo

	"github.com/robfig/cron/v3"
)

// specParser accepts the standard five fields, an optional leading seconds
// field, descriptors (@daily, @every 1h) and a CRON_TZ= or TZ= prefix.
var specParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec parses a job's schedule.
//
// "@every D" is aligned to multiples of D since the zero time rather than
// counted from when the process started (robfig/cron's meaning): replicas
// started at different moments must agree on when an occurrence is due,
// because the occurrence's time is the key they claim it by.
func ParseSpec(spec string) (cron.Schedule, error) {
	s, err := specParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	if every, ok := s.(cron.ConstantDelaySchedule); ok {
		return alignedEvery(every.Delay), nil
	}
	return s, nil
}

// alignedEvery fires at every multiple of its duration.
type alignedEvery time.Duration

func (d alignedEvery) Next(t time.Time) time.Time {
	return t.Truncate(time.Duration(d)).Add(time.Duration(d))
}
