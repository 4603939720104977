package service

import (
	"sort"
	"strings"

	"github.com/ticketguard/ticketguard/internal/config"
)

// redacted replaces a secret in stored and logged text.
const redacted = "[REDACTED]"

// redactor removes the configuration's secrets from text the service stores
// (a run's error) or logs. The collectors and the notifier already keep
// secrets out of their errors; this is the second line, so that a library
// quoting a request one day does not write a client secret into the
// history, which `ticketguard show` prints and the status page displays.
type redactor struct {
	secrets []string // longest first, so a secret containing another goes whole
}

// secretsOf resolves every secret the configuration references. A secret
// that does not resolve cannot leak (the code that needs it reports that).
func secretsOf(cfg *config.Config) *redactor {
	refs := []*config.Secret{cfg.Atera.APIKey}
	for _, t := range cfg.Tenants {
		refs = append(refs, t.ClientSecret, t.CertificatePassword, t.Atera.SMTPPassword)
	}
	if cfg.Slack != nil {
		refs = append(refs, cfg.Slack.BotToken, cfg.Slack.WebhookURL)
	}
	r := &redactor{}
	seen := map[string]bool{}
	for _, ref := range refs {
		if ref == nil {
			continue
		}
		v, err := ref.Resolve()
		if err != nil || len(strings.TrimSpace(v)) < 4 || seen[v] {
			// Replacing a blank or a two-letter value would corrupt
			// every message and protect nothing.
			continue
		}
		seen[v] = true
		r.secrets = append(r.secrets, v)
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

func (r *redactor) redact(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}
