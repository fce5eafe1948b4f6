package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Limits caps calls per API path. WeCom counts per corp and per API
// (§5: 10,000/min and 150,000/h today, lower in older versions), so each
// API gets its own budget. 0 means the default for that window; a negative
// value switches that window's limiter off.
type Limits struct {
	PerMinute, PerHour int
}

// Config configures a Client. Only BaseURL, CorpID and Secret are required.
type Config struct {
	// BaseURL is the scheme and host, e.g. "https://qyapi.weixin.qq.com";
	// the client appends "/cgi-bin/<api>".
	BaseURL string
	CorpID  string
	// Secret is the 通讯录同步 secret for writes. It is sent only as the
	// corpsecret query parameter of gettoken and never logged.
	Secret string
	// HTTPClient defaults to one with a 30 s timeout that does not follow
	// redirects (a redirect would carry the token to another URL). A
	// caller's client is copied; where the copy has no Transport it gets
	// the package's pooled one, and where it has no CheckRedirect it does
	// not follow redirects either, for the same reason.
	HTTPClient *http.Client
	Limits     Limits
	// MaxRetries bounds the retries of ClassRetry and 45009 answers per
	// call. 0 means 3; negative means no retries.
	MaxRetries int
	// Logger receives one Debug record per HTTP round trip. nil discards.
	Logger *slog.Logger
	// Now drives token expiry and the 45009 pause. nil means time.Now.
	Now func() time.Time
	// Sleep waits for backoff and 45009 pauses. nil means a timer that
	// returns early with ctx.Err() when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnCall, if set, is called synchronously after every HTTP round trip,
	// including gettoken and retries. It must be quick.
	OnCall func(CallInfo)
}

// CallInfo describes one HTTP round trip, for metrics. It carries nothing
// secret.
type CallInfo struct {
	API string // e.g. "user/create", "gettoken"
	// Errcode is WeCom's errcode when a response envelope was decoded. When
	// none was (Transport is true) it is the HTTP status for a non-200
	// answer and -1 for network or decoding failures.
	Errcode   int
	Transport bool
	// Attempt counts round trips of one logical call, from 1, including
	// token-refresh and backoff retries. A gettoken made on the way counts
	// its own attempts.
	Attempt  int
	Duration time.Duration
	// LimiterWait is how long the attempt waited for its turn under the
	// per-API rate limits (and any 45009 pause) before it was sent.
	LimiterWait time.Duration
}

const (
	defaultTimeout    = 30 * time.Second
	defaultMaxRetries = 3
	// maxResponseBytes bounds how much of a response is read. user/list on
	// a 30,000-member department is tens of MB; anything far beyond that
	// is not a WeCom answer.
	maxResponseBytes = 256 << 20
)

// maxIdleConnsPerHost sizes the keep-alive pool to WeCom's one host.
// net/http's default of 2 makes every caller beyond the second open and
// close a connection per call: with 32 concurrent callers on loopback that
// cut throughput from about 41,000 to 7,600 calls/s and left thousands of
// sockets in TIME_WAIT (BenchmarkLoopback). The executor keeps up to its
// concurrency (64 by default) in flight per API, and a night busies three
// or four APIs at once.
const maxIdleConnsPerHost = 256

// pooledTransport is http.DefaultTransport with a pool big enough for a
// concurrent sync, shared by every Client so they share connections.
var pooledTransport = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return t
})

// Client is a WeCom contacts client. It is safe for concurrent use.
type Client struct {
	base       string // scheme://host[/prefix], no trailing slash
	corpID     string
	secret     string
	hc         *http.Client
	maxRetries int
	log        *slog.Logger
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	onCall     func(CallInfo)

	tok    tokenCache
	limits *limiterSet
}

// New validates cfg and returns a client. It does not contact WeCom.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("wecom: invalid BaseURL %q: want scheme://host", cfg.BaseURL)
	}
	if cfg.CorpID == "" {
		return nil, errors.New("wecom: CorpID is required")
	}
	if cfg.Secret == "" {
		return nil, errors.New("wecom: Secret is required")
	}
	c := &Client{
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		corpID:     cfg.CorpID,
		secret:     cfg.Secret,
		hc:         cfg.HTTPClient,
		maxRetries: cfg.MaxRetries,
		log:        cfg.Logger,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
		onCall:     cfg.OnCall,
		limits:     newLimiterSet(cfg.Limits),
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	} else {
		hc := *c.hc
		c.hc = &hc
	}
	if c.hc.Transport == nil {
		c.hc.Transport = pooledTransport()
	}
	if c.hc.CheckRedirect == nil {
		c.hc.CheckRedirect = func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = defaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = timerSleep
	}
	return c, nil
}

// request is one logical API call; do turns it into one or more round trips.
type request struct {
	api    string     // path below /cgi-bin/
	method string     // http.MethodGet or http.MethodPost
	query  url.Values // without access_token
	body   any        // JSON body for POST, nil for GET
	out    any        // decoded from the response when errcode is 0; may be nil
	// noToken marks gettoken, which authenticates with corpid/corpsecret
	// in query instead of an access token.
	noToken bool
}

func (c *Client) get(ctx context.Context, api string, query url.Values, out any) error {
	return c.do(ctx, request{api: api, method: http.MethodGet, query: query, out: out})
}

func (c *Client) post(ctx context.Context, api string, body, out any) error {
	return c.do(ctx, request{api: api, method: http.MethodPost, body: body, out: out})
}

// do runs r until it succeeds or fails for good. Retries of transient
// failures and 45009 share the MaxRetries budget; a token refresh gets its
// own single retry because it is not a sign of an overloaded server.
func (c *Client) do(ctx context.Context, r request) error {
	var payload []byte
	if r.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// Go escapes <, > and & as \u003c etc. by default; errcode 40033
		// says WeCom refuses \uXXXX escapes, and where it does not it
		// would store them verbatim (§6).
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.body); err != nil {
			return fmt.Errorf("wecom %s: encode request: %w", r.api, err)
		}
		payload = buf.Bytes()
	}
	wait, stop := waitContext(ctx)
	defer stop()
	s := send{ctx: ctx}
	s.left, s.bounded = sendBudget(ctx)
	refreshed := false
	retries := 0
	for attempt := 1; ; attempt++ {
		var tok string
		if !r.noToken {
			var err error
			if tok, err = c.token(wait); err != nil {
				return err
			}
		}
		err := c.attempt(wait, &s, r, payload, tok, attempt)
		if err == nil {
			return nil
		}
		if he, ok := err.(hookError); ok {
			return he.err
		}
		class := ClassOf(err)
		if r.noToken && class == ClassRefresh {
			// A token-invalid answer to gettoken itself cannot be fixed
			// by fetching a token.
			return err
		}
		switch class {
		case ClassRefresh:
			if refreshed {
				return err
			}
			refreshed = true
			c.tok.invalidate(tok)
		case ClassRetry:
			if retries >= c.maxRetries {
				return err
			}
			retries++
			if err := c.sleep(wait, backoff(retries)); err != nil {
				return err
			}
		case ClassRateLimited:
			if retries >= c.maxRetries {
				return err
			}
			retries++
			// The next attempt waits for the pause in attempt(), and
			// the API goes slower for a while after it.
			a := c.limits.get(r.api)
			a.blockUntil(c.now().Add(rateLimitPause))
			a.slowDown(time.Now())
		default:
			return err
		}
	}
}

// send is what bounds the requests of one call: ctx, and when the call
// was detached (see Detach), the time it has left on the wire.
type send struct {
	ctx     context.Context
	left    time.Duration
	bounded bool
}

// attempt waits for the API's turn under wait and performs one round trip
// under s.
func (c *Client) attempt(wait context.Context, s *send, r request, payload []byte, tok string, n int) error {
	if s.bounded && s.left <= 0 {
		return context.DeadlineExceeded
	}
	ctx := s.ctx
	// The hook (the journal's write-ahead row) runs before the limiter,
	// so the rate slot is the last gate: the request leaves as soon as it
	// is admitted, not after a journal commit that could push it into the
	// next window. An attempt abandoned while queued is then announced, and
	// closed as not sent.
	var finish func(int, error)
	if h := attemptHookFrom(ctx); h != nil && !r.noToken {
		f, err := h(r.api, n)
		if err != nil {
			return hookError{err}
		}
		finish = f
	}
	queued := time.Now()
	err := c.waitTurn(wait, r.api)
	if err == nil {
		err = wait.Err()
	}
	if err != nil {
		err = &NotSentError{API: r.api, Err: err}
		if finish != nil {
			finish(0, err)
		}
		return err
	}
	waited := time.Since(queued)
	if s.bounded {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.left)
		defer cancel()
	}
	start := time.Now()
	code, transport, err := c.roundTrip(ctx, r, payload, tok)
	d := time.Since(start)
	s.left -= d
	if finish != nil {
		finish(code, err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "wecom call",
		slog.String("api", r.api),
		slog.Int("errcode", code),
		slog.Int("attempt", n),
		slog.Duration("duration", d))
	if c.onCall != nil {
		c.onCall(CallInfo{API: r.api, Errcode: code, Transport: transport, Attempt: n, Duration: d, LimiterWait: waited})
	}
	return err
}

// envelope is the part of every WeCom response that decides success.
type envelope struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// roundTrip sends one request. It returns the errcode for CallInfo (see
// there for the transport case), whether the failure was below the
// envelope, and the resulting error.
func (c *Client) roundTrip(ctx context.Context, r request, payload []byte, tok string) (int, bool, error) {
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if !r.noToken {
		q.Set("access_token", tok)
	}
	target := c.base + "/cgi-bin/" + r.api + "?" + q.Encode()

	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	reqCtx := ctx
	if c.hc.Timeout <= 0 {
		// A caller-supplied client without a timeout must not let one
		// stalled connection hang a sync whose ctx has no deadline. This
		// timeout is a TransportError (retried), unlike the caller's ctx.
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(reqCtx, r.method, target, body)
	if err != nil {
		// The URL is ours and well-formed; this only fails on a bad
		// method or a nil ctx. Its message may quote the URL, so drop it.
		return -1, true, &TransportError{API: r.api, Err: errors.New("cannot build request")}
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	noReplay(req)

	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, true, ctx.Err()
		}
		// *url.Error quotes the full URL, access_token and corpsecret
		// included: keep only what it wraps.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return -1, true, &TransportError{API: r.api, Err: c.scrubErr(err, tok)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, true, &TransportError{API: r.api, Status: resp.StatusCode}
	}
	if err != nil {
		if ctx.Err() != nil {
			return -1, true, ctx.Err()
		}
		return -1, true, &TransportError{API: r.api, Err: c.scrubErr(fmt.Errorf("read response: %w", err), tok)}
	}
	if len(raw) > maxResponseBytes {
		return -1, true, &TransportError{API: r.api, Err: errors.New("response too large")}
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return -1, true, &TransportError{API: r.api, Err: fmt.Errorf("decode response: %w", err)}
	}
	if env.Errcode != 0 {
		return env.Errcode, false, &APIError{API: r.api, Code: env.Errcode, Msg: c.scrub(env.Errmsg, tok)}
	}
	if r.out != nil {
		if err := json.Unmarshal(raw, r.out); err != nil {
			return 0, true, &TransportError{API: r.api, Err: fmt.Errorf("decode response: %w", err)}
		}
	}
	return 0, false, nil
}

// noReplay stops net/http from sending req a second time on its own.
//
// The http.Transport doc: it "only retries a request upon encountering a
// network error if the connection has already been used successfully and
// if the request is idempotent and either has no body or has its
// Request.GetBody defined". WeCom's deletes are GETs, which it counts as
// idempotent, so a keep-alive connection that closed after the server read
// a user/delete made the transport send it again on a fresh one, unseen by
// the AttemptHook: two requests, one journal row. No header marks a GET as
// non-idempotent (an Idempotency-Key header, even an empty one, does the
// opposite), so every request gets a body it cannot rewind: an empty one
// for a GET, which is sent as a GET without a body (the transport reads it
// before writing and finds nothing), and no GetBody for a POST. The
// HTTP/2 transport then replays only a request that never got a stream.
// A failure after sending reaches do as a TransportError, and the client's
// own retry goes through the hook like any other attempt.
func noReplay(req *http.Request) {
	if req.Body == nil || req.Body == http.NoBody {
		req.Body = emptyBody{}
	}
	req.GetBody = nil
}

// emptyBody is a body with nothing in it that is not http.NoBody, which
// net/http would treat as no body at all.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

const redacted = "[REDACTED]"

// scrub removes the secret and tok from s. Nothing we keep is expected to
// hold them; this guards against transports and servers that echo the URL.
func (c *Client) scrub(s, tok string) string {
	for _, v := range []string{c.secret, tok, url.QueryEscape(c.secret), url.QueryEscape(tok)} {
		if v != "" {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

// scrubErr returns err unchanged when its message is clean, else a plain
// error with the scrubbed message: a chain that still reached the dirty
// error would let errors.As hand it out again.
func (c *Client) scrubErr(err error, tok string) error {
	msg := err.Error()
	if clean := c.scrub(msg, tok); clean != msg {
		return errors.New(clean)
	}
	return err
}
