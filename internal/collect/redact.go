package collect

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Redacted replaces a secret wherever it would otherwise be printed.
const Redacted = "[REDACTED]"

// redactor removes a tenant's secrets from text: the values resolved from the
// configuration (client secret, certificate password, SMTP password, Atera
// API key) and every bearer token issued during the collection, which are
// only known once issued, hence the lock. The collectors already keep
// secrets out of what they report; this is the second line, applied to
// everything the orchestrator prints or stores, so that a collector (or a
// library under it) quoting a request one day does not leak.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another goes whole
}

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		r.add(s)
	}
	return r
}

// add registers a secret value. Blank values are ignored: replacing "" or
// spaces would corrupt every message and protect nothing.
func (r *redactor) add(secret string) {
	if strings.TrimSpace(secret) == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	r.secrets = append(r.secrets, secret)
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// redact returns s with every registered secret replaced by Redacted.
func (r *redactor) redact(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, secret := range r.secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	return s
}

// recordingCredential registers every access token it hands out with the
// redactor, so a token echoed in an error (a proxy's page, a library's debug
// text) is removed like any configured secret.
type recordingCredential struct {
	inner azcore.TokenCredential
	red   *redactor
}

func (c recordingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.inner.GetToken(ctx, opts)
	if err == nil {
		c.red.add(tok.Token)
	}
	return tok, err
}
