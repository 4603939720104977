package slack

import (
	"net/url"
	"regexp"
	"strings"
)

// RedactURL shows where a URL points without what makes it a secret: the
// scheme and host stay, the path, query and user part go. A webhook URL's
// path is its credential.
//
//	https://hooks.slack.com/services/T0/B0/XXXX → https://hooks.slack.com/[redacted]
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted URL]"
	}
	return u.Scheme + "://" + u.Host + "/[redacted]"
}

// Patterns of Slack credentials, for text that might hold one this notifier
// was not configured with (a token or webhook in a proxy's error page).
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`xox[a-z]-[A-Za-z0-9-]+`),    // bot, user, app-level tokens
	regexp.MustCompile(`xapp-[A-Za-z0-9-]+`),        // app-level tokens
	regexp.MustCompile(`/services/[A-Za-z0-9/_-]+`), // incoming webhook paths
}

// redactor removes the notifier's own secrets, in every form an error may
// quote them (as given, re-serialised by net/url, path alone, escaped), and
// anything that looks like a Slack credential.
type redactor struct {
	replace *strings.Replacer
}

func newRedactor(token, webhook string) *redactor {
	var pairs []string
	add := func(s, with string) {
		// Very short strings would redact ordinary words; no real token
		// or webhook path is that short.
		if len(s) >= 8 {
			pairs = append(pairs, s, with)
		}
	}
	if webhook != "" {
		const w = "[webhook URL redacted]"
		add(webhook, w)
		add(url.QueryEscape(webhook), w)
		if u, err := url.Parse(webhook); err == nil {
			add(u.String(), w)
			add(u.Redacted(), w)
			add(u.EscapedPath(), "/[redacted]")
			add(u.Path, "/[redacted]")
			add(u.RawQuery, "[redacted]")
			if p, ok := u.User.Password(); ok {
				add(p, "[redacted]")
			}
		}
	}
	if token != "" {
		add(token, "[token redacted]")
		add(url.QueryEscape(token), "[token redacted]")
	}
	return &redactor{replace: strings.NewReplacer(pairs...)}
}

func (r *redactor) redact(s string) string {
	s = r.replace.Replace(s)
	for _, p := range secretPatterns {
		s = p.ReplaceAllString(s, "[redacted]")
	}
	return s
}
