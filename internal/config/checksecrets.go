package config

import (
	"errors"
	"fmt"
	"strings"
)

// CheckSecrets resolves every secret the named tenants (all when none are
// named) and the account-wide sections refer to, and reports each one that
// cannot be read as a configuration error with its line and field, before
// any collection starts. A missing variable or file is a mistake in the
// configuration, not a tenant that failed to collect. The values are read
// and dropped; no error contains one.
func (c *Config) CheckSecrets(file string, tenants ...string) error {
	want := map[string]bool{}
	for _, t := range tenants {
		want[strings.ToLower(t)] = true
	}
	var errs []error
	check := func(s *Secret) {
		if s == nil {
			return
		}
		if _, err := s.Bytes(); err != nil {
			errs = append(errs, &Error{File: file, Line: s.line, Field: s.field, Msg: err.Error()})
		}
	}
	check(c.Atera.APIKey)
	if c.Slack != nil {
		check(c.Slack.BotToken)
		check(c.Slack.WebhookURL)
	}
	for _, t := range c.Tenants {
		if len(want) > 0 && !want[strings.ToLower(t.Name)] {
			continue
		}
		check(t.Certificate)
		check(t.CertificatePassword)
		check(t.ClientSecret)
		check(t.Atera.SMTPPassword)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w", errors.Join(errs...))
}
