package notify

import (
	"errors"
	"net/url"
	"strings"
)

// redacted replaces a webhook's secret parts in error text.
const redacted = "[REDACTED]"

// scrub returns err with every secret part of rawURL removed from its
// text: the whole URL, its query (the robot's key=...), its path beyond
// the host (tokens often live there) and any user info, each also in its
// escaped form. The result keeps no reference to err, whose own fields
// (url.Error.URL) would still hold the URL for anyone who unwraps it.
func scrub(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		// Rebuild from the parts so the URL is never in the text at all.
		msg = ue.Op + " " + hostOnly(rawURL) + ": " + ue.Err.Error()
	}
	for _, s := range secretParts(rawURL) {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return &Error{msg: msg}
}

// Error is a send failure with secrets removed.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func hostOnly(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return redacted
	}
	return u.Scheme + "://" + u.Host + "/" + redacted
}

func secretParts(rawURL string) []string {
	parts := []string{rawURL, url.QueryEscape(rawURL)}
	if u, err := url.Parse(rawURL); err == nil {
		for _, p := range []string{u.RawQuery, u.Query().Get("key"), u.EscapedPath(), u.Path, u.User.String()} {
			if len(p) > 1 { // "/" alone is not a secret, and replacing it would mangle the text
				parts = append(parts, p, url.QueryEscape(p))
			}
		}
	}
	return parts
}
