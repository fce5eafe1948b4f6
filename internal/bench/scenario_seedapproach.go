package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hrfeed/importer/internal/mapper"
)

// seedSync is the approach the importer replaced, re-implemented
// faithfully so the comparison is measured rather than estimated: for
// every feed row, in feed order and one at a time, fetch a fresh access
// token with gettoken and send the member's whole record with
// user/update. No diff against anything, so unchanged members are sent
// too; no journal; no rate limiter; no retries.
//
// Departments are not sent: a per-row script cannot resolve HR paths to
// WeCom ids without department/list, which a sync secret on a new IP may
// not call (48009). Leaving them out only makes each call cheaper for the
// seed.
type seedSync struct {
	base, corpID, secret string
	hc                   *http.Client
}

// seedOutcome is what a budgeted seedSync pass did.
type seedOutcome struct {
	Rows, Calls, Failed int
	Took                time.Duration
}

// run sends the members in order until they are all sent or budget is
// spent, so a slow emulator cannot stretch the bench beyond its limit;
// the caller extrapolates from the rows done.
func (s seedSync) run(ctx context.Context, members []mapper.Member, budget time.Duration) (seedOutcome, error) {
	var out seedOutcome
	start := time.Now()
	for _, m := range members {
		if time.Since(start) > budget {
			break
		}
		tok, err := s.token(ctx)
		out.Calls++
		if err != nil {
			return out, err
		}
		u := m.Record()
		body := map[string]any{"userid": u.UserID, "name": u.Name, "mobile": u.Mobile, "email": u.Email,
			"position": u.Position, "gender": u.Gender, "enable": 1}
		if len(u.DirectLeader) > 0 {
			body["direct_leader"] = u.DirectLeader
		}
		code, err := s.call(ctx, http.MethodPost, "user/update", url.Values{"access_token": {tok}}, body, nil)
		out.Calls++
		if err != nil {
			return out, err
		}
		if code != 0 {
			out.Failed++
		}
		out.Rows++
	}
	out.Took = time.Since(start)
	return out, nil
}

func (s seedSync) token(ctx context.Context) (string, error) {
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	code, err := s.call(ctx, http.MethodGet, "gettoken", url.Values{"corpid": {s.corpID}, "corpsecret": {s.secret}}, nil, &resp)
	if err != nil {
		return "", err
	}
	if code != 0 || resp.AccessToken == "" {
		return "", fmt.Errorf("gettoken answered errcode %d", code)
	}
	return resp.AccessToken, nil
}

// call sends one request and returns WeCom's errcode. Errors never carry
// the URL, which holds the secret or the token.
func (s seedSync) call(ctx context.Context, method, api string, q url.Values, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+"/cgi-bin/"+api+"?"+q.Encode(), rd)
	if err != nil {
		return 0, fmt.Errorf("seed approach: build %s request", api)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("seed approach: %s: request failed", api)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("seed approach: %s: read answer: %w", api, err)
	}
	var env struct {
		Errcode int `json:"errcode"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return 0, fmt.Errorf("seed approach: %s: answer is not JSON (HTTP %d)", api, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, err
		}
	}
	return env.Errcode, nil
}

// seedApproach runs seedSync on the nightly scenario's feed and emulator
// (after our nightly run, so every update it sends is a no-op there, as
// on most nights) and compares calls and wall time with our run.
func (b *bench) seedApproach(ctx context.Context) error {
	nr := b.nightly
	if nr == nil || nr.em == nil || len(nr.changed.Members) == 0 {
		return fmt.Errorf("needs the nightly scenario's emulator and feed, which did not get that far")
	}
	members := nr.changed.Members
	s := seedSync{base: nr.em.url, corpID: corpID, secret: nr.em.secret, hc: &http.Client{Timeout: 30 * time.Second}}
	b.logf("seed approach: up to %s of sequential gettoken + user/update on the %s-row nightly feed", secs(b.sizes.SeedBudget), num(len(members)))
	out, err := s.run(ctx, members, b.sizes.SeedBudget)
	if err != nil {
		return err
	}
	row := Row{Scenario: "versus the seed's approach",
		Setup: fmt.Sprintf("the nightly feed (%s rows): per row, in order, gettoken + user/update of the whole member; no diff, no journal, no limiter", num(len(members)))}
	fullCalls := 2 * len(members)
	fullWall := out.Took
	measured := fmt.Sprintf("all %s rows", num(out.Rows))
	if out.Rows < len(members) && out.Rows > 0 {
		fullWall = time.Duration(float64(out.Took) * float64(len(members)) / float64(out.Rows))
		measured = fmt.Sprintf("%s rows in %s (%s calls), extrapolated to the whole feed", num(out.Rows), secs(out.Took), num(out.Calls))
	}
	row.Result = fmt.Sprintf("%s: %s calls, %s", measured, num(fullCalls), secs(fullWall))
	if nr.ran && nr.calls > 0 {
		row.Result += fmt.Sprintf("; ours: %s calls, %s → the seed makes %.0f× the calls and takes %.1f× the time",
			num(nr.calls), secs(nr.wall), float64(fullCalls)/float64(nr.calls), fullWall.Seconds()/nr.wall.Seconds())
	}
	var problems []string
	if out.Failed > 0 {
		problems = append(problems, fmt.Sprintf("%s of the seed's updates failed", num(out.Failed)))
	}
	row.Check, row.Failed = verdict("every update the seed sent succeeded", problems)
	b.add(row)
	if out.Rows < len(members) {
		b.limitedBy(fmt.Sprintf("seed approach: stopped after the %s budget and extrapolated linearly; the emulator's per-call cost grows with its directory "+
			"(uniqueness scans over %s members), which slows the seed's %s updates far more than our %s.",
			secs(b.sizes.SeedBudget), num(nr.members), num(len(members)), num(nr.changed.Rows/max(1, b.sizes.NightlyChangedEvery))))
	}
	if len(members) > 10000 {
		b.limitedBy(fmt.Sprintf("seed approach: the nightly emulator enforces no rate limit, so the seed runs at full speed while our run keeps WeCom's "+
			"documented 10,000/min per API. On WeCom the seed's %s user/update calls could not take less than %d minutes, and, having no limiter, "+
			"it would be answered 45009 after the first 10,000.", num(len(members)), (len(members)+9999)/10000))
	}
	return nil
}
