package wecomsim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"
)

type token struct {
	value   string
	secret  int // index into opts.Secrets
	expires time.Time
}

// tokenLen matches the length of production tokens (well under the 512
// bytes a client must allow for).
const tokenLen = 64

func newTokenValue() string {
	b := make([]byte, tokenLen/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// getToken implements GET /cgi-bin/gettoken. Callers hold s.mu.
func (s *Server) getToken(r *http.Request, ip string, now time.Time) response {
	if r.Method != http.MethodGet {
		return s.errResp(40058, "", ip, now)
	}
	if until, banned := s.tokenBan[ip]; banned {
		if now.Before(until) {
			return s.errResp(45009, "", ip, now)
		}
		delete(s.tokenBan, ip)
	}
	q := r.URL.Query()
	corpID, secretValue := q.Get("corpid"), q.Get("corpsecret")
	switch {
	case corpID == "":
		return s.errResp(41002, "", ip, now)
	case secretValue == "":
		return s.errResp(41004, "", ip, now)
	}
	corpKey := ""
	if corpID == s.opts.CorpID {
		corpKey = corpID
	}
	if !s.allowRate("gettoken", corpKey, ip, now) {
		return s.errResp(45009, "", ip, now)
	}
	if corpKey == "" {
		return s.errResp(40013, "", ip, now)
	}
	idx := -1
	for i := range s.opts.Secrets {
		if s.opts.Secrets[i].Value == secretValue {
			idx = i
			break
		}
	}
	if idx < 0 {
		s.noteBadSecret(ip, now)
		return s.errResp(40001, "", ip, now)
	}

	tok := s.current[secretValue]
	if tok == nil || s.opts.NewTokenEachFetch || !now.Before(tok.expires) {
		s.pruneTokens(now)
		tok = &token{value: newTokenValue(), secret: idx, expires: now.Add(s.opts.TokenTTL)}
		s.tokens[tok.value] = tok
		s.current[secretValue] = tok
	}
	expiresIn := s.opts.TokenTTL
	if s.opts.ExpiresInRemaining {
		expiresIn = tok.expires.Sub(now)
	}
	return response{msg: "ok", fields: map[string]any{
		"access_token": tok.value,
		"expires_in":   int(expiresIn / time.Second),
	}}
}

// noteBadSecret counts wrong-secret fetches per IP over a sliding hour and
// bans the IP for an hour once the threshold is reached, as the 45009 help
// text describes.
func (s *Server) noteBadSecret(ip string, now time.Time) {
	if s.opts.BadSecretBanThreshold == unlimited {
		return
	}
	cut := now.Add(-time.Hour)
	times := s.badSecret[ip]
	i := 0
	for i < len(times) && !times[i].After(cut) {
		i++
	}
	times = append(times[i:], now)
	if len(times) >= s.opts.BadSecretBanThreshold {
		s.tokenBan[ip] = now.Add(time.Hour)
		times = nil
	}
	s.badSecret[ip] = times
}

// pruneTokens forgets tokens that expired a day ago. Recently expired ones
// are kept so they keep answering ExpiredCode rather than 40014.
func (s *Server) pruneTokens(now time.Time) {
	cut := now.Add(-24 * time.Hour)
	for v, t := range s.tokens {
		if t.expires.Before(cut) {
			delete(s.tokens, v)
		}
	}
}

// checkToken resolves a query-string token to its secret. Callers hold s.mu.
func (s *Server) checkToken(value string, now time.Time) (*Secret, int) {
	tok := s.tokens[value]
	if tok == nil {
		return nil, 40014
	}
	if !now.Before(tok.expires) {
		return nil, s.opts.ExpiredCode
	}
	return &s.opts.Secrets[tok.secret], 0
}

// InvalidateTokens revokes every issued token, as WeCom may do early "for
// operational reasons". Revoked tokens answer 40014 (not ExpiredCode), and
// the next gettoken issues a fresh one.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*token{}
	s.current = map[string]*token{}
}
