package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"time"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// corpID is the emulated corp every scenario uses.
const corpID = "ww-bench"

// emulator is a wecomsim server on a loopback port, so the importer talks
// to it over real HTTP exactly as it would to WeCom.
type emulator struct {
	sim    *wecomsim.Server
	srv    *http.Server
	url    string
	secret string
}

// startEmulator serves a new emulator; opts' corp and secret are set here.
// The secret is random per emulator and lives only in this process and the
// environment of the children it is handed to.
func startEmulator(opts wecomsim.Options) (*emulator, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	opts.CorpID = corpID
	opts.Secrets = []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}}
	sim := wecomsim.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns ErrServerClosed at close
	return &emulator{sim: sim, srv: srv, url: "http://" + ln.Addr().String(), secret: secret}, nil
}

func (e *emulator) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
}

// client is a WeCom client for an in-process run, configured as
// cmd/importer configures it, with per-API limits as in the config (0 =
// WeCom's documented default, negative = off); sleep, when set, replaces
// the client's backoff and 45009 pauses.
func (e *emulator) client(perMinute, perHour int, sleep func(context.Context, time.Duration) error) (*wecom.Client, error) {
	return wecom.New(wecom.Config{
		BaseURL: e.url, CorpID: corpID, Secret: e.secret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Limits:     wecom.Limits{PerMinute: perMinute, PerHour: perHour},
		Sleep:      sleep,
	})
}

// writeAPIs are the emulator endpoints that change the directory.
var writeAPIs = []string{"user/create", "user/update", "user/delete", "user/batchdelete",
	"department/create", "department/update", "department/delete",
	wecom.APITagCreate, wecom.APITagUpdate, wecom.APITagDelete, wecom.APITagAddUsers, wecom.APITagDelUsers}

// calls counts what reached the emulator: every request and the writes.
func (e *emulator) calls() (all, writes int) {
	for api, n := range e.sim.Stats() {
		all += n
		for _, w := range writeAPIs {
			if api == w {
				writes += n
			}
		}
	}
	return all, writes
}
