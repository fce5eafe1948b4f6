package wecom

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"
)

const (
	// refreshMargin is how long before expiry a token is replaced, so a
	// call started just before expiry does not arrive with a dead token.
	refreshMargin = 5 * time.Minute
	// defaultTokenTTL stands in for a missing or non-positive expires_in
	// (§1.1: normally 7200 s); the reactive refresh covers a wrong guess.
	defaultTokenTTL = 7200 * time.Second
)

// tokenCache holds the client's one access token. At most one gettoken is
// in flight: WeCom rate-limits gettoken and bans an IP after repeated
// failures (§5), so a thundering herd of fetches must not happen.
type tokenCache struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time // proactive refresh from here on
	expiresAt time.Time // WeCom's expiry, by the client clock
	flight    *tokenFlight
}

// tokenFlight is one gettoken in progress; done is closed when it ends.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
	// abandoned means the fetch failed because its leader's ctx ended,
	// which says nothing about the waiters' chances: they try again.
	abandoned bool
}

// invalidate drops tok if it is still the cached token. Callers that saw
// a token error on an older token must not discard a newer one another
// caller has already fetched.
func (t *tokenCache) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token = ""
	}
}

// Token returns a valid access token, fetching one if the cache is empty
// or near expiry. It is exported for tests; client methods call it
// themselves. The returned value is a credential: do not log it.
func (c *Client) Token(ctx context.Context) (string, error) {
	return c.token(ctx)
}

func (c *Client) token(ctx context.Context) (string, error) {
	t := &c.tok
	for {
		t.mu.Lock()
		now := c.now()
		if t.token != "" && now.Before(t.refreshAt) {
			tok := t.token
			t.mu.Unlock()
			return tok, nil
		}
		if f := t.flight; f != nil {
			// While a proactive refresh runs, the old token is still good.
			if t.token != "" && now.Before(t.expiresAt) {
				tok := t.token
				t.mu.Unlock()
				return tok, nil
			}
			t.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.abandoned {
				continue
			}
			return f.token, f.err
		}

		f := &tokenFlight{done: make(chan struct{})}
		t.flight = f
		t.mu.Unlock()

		// Expiry counts from before the request so network time only ever
		// makes the client refresh early, never late.
		start := c.now()
		tok, ttl, err := c.fetchToken(ctx)

		t.mu.Lock()
		t.flight = nil
		if err == nil {
			margin := min(refreshMargin, ttl/2)
			t.token = tok
			t.expiresAt = start.Add(ttl)
			t.refreshAt = t.expiresAt.Add(-margin)
		}
		f.token, f.err = tok, err
		f.abandoned = err != nil && ctx.Err() != nil
		t.mu.Unlock()
		close(f.done)
		return tok, err
	}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	var resp tokenResponse
	err := c.do(ctx, request{
		api:     "gettoken",
		method:  http.MethodGet,
		query:   url.Values{"corpid": {c.corpID}, "corpsecret": {c.secret}},
		out:     &resp,
		noToken: true,
	})
	if err != nil {
		return "", 0, err
	}
	if resp.AccessToken == "" {
		return "", 0, &TransportError{API: "gettoken", Err: errors.New("errcode 0 without access_token")}
	}
	ttl := time.Duration(resp.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = defaultTokenTTL
	}
	return resp.AccessToken, ttl, nil
}
