package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ticketguard/ticketguard/collectors"
)

// TenantWide names the recipients the first round needs besides the
// mailboxes that forward: their mailboxes are ORed into Get-Mailbox's
// server-side filter, so one request returns all of them.
type TenantWide struct {
	SupportAddress string // Atera primary support address
	SMTPUser       string // Atera custom SMTP user name; "" when Atera sends as itself
}

// TenantWideCmdlets are the cmdlets CollectTenantWide runs, besides
// Get-CASMailbox for the SMTP user.
var TenantWideCmdlets = []string{
	"Get-MailContact", "Get-DistributionGroup", "Get-Mailbox",
	"Get-HostedOutboundSpamFilterPolicy", "Get-HostedOutboundSpamFilterRule",
	"Get-AntiPhishPolicy", "Get-AntiPhishRule", "Get-EOPProtectionPolicyRule",
	"Get-RemoteDomain", "Get-TransportRule", "Get-TransportConfig",
	"Get-HostedConnectionFilterPolicy", "Get-AcceptedDomain",
}

type job struct {
	cmdlet string
	params map[string]any
	store  func(objs []map[string]any)
	// notFound, when set, handles an "object couldn't be found" answer as
	// data instead of an error (an existence lookup).
	notFound func()
	address  string // per-recipient calls: named in the error message
}

// CollectTenantWide runs the first round: every tenant-wide cmdlet, at once
// within the client's concurrency. Each failure is recorded in p under the
// cmdlet's name and leaves its key out; no failure stops the others. A token
// failure is recorded once under "auth" and stops the round.
func (c *Client) CollectTenantWide(ctx context.Context, p *collectors.Partial, tw TenantWide) {
	set := func(cmdlet string) func([]map[string]any) {
		return func(objs []map[string]any) { p.SetExchange(cmdlet, objs) }
	}
	var jobs []job
	for _, cmdlet := range TenantWideCmdlets {
		j := job{cmdlet: cmdlet, store: set(cmdlet)}
		if cmdlet == "Get-Mailbox" {
			j.params = map[string]any{"Filter": MailboxFilter(tw.SupportAddress, tw.SMTPUser)}
		}
		jobs = append(jobs, j)
	}
	if user := strings.TrimSpace(tw.SMTPUser); user != "" {
		// An SMTP user that is not a mailbox here (a third-party server's
		// account) is a fact, not a failure: record that there is none.
		jobs = append(jobs, job{
			cmdlet:   "Get-CASMailbox",
			params:   map[string]any{"Identity": user},
			store:    set("Get-CASMailbox"),
			notFound: func() { p.SetExchange("Get-CASMailbox", []map[string]any{}) },
		})
	}
	c.run(ctx, p, jobs)
}

// MailboxFilter is Get-Mailbox's server-side filter: the mailboxes that
// forward, plus the named addresses (support and SMTP user), so a tenant of
// thousands of mailboxes answers a handful.
func MailboxFilter(addresses ...string) string {
	parts := []string{"ForwardingAddress -ne $null", "ForwardingSmtpAddress -ne $null"}
	seen := map[string]bool{}
	for _, a := range addresses {
		a = collectors.NormalizeAddress(a)
		if a == "" || !strings.Contains(a, "@") || seen[a] {
			continue
		}
		seen[a] = true
		parts = append(parts, "EmailAddresses -eq 'smtp:"+strings.ReplaceAll(a, "'", "''")+"'")
	}
	return strings.Join(parts, " -or ")
}

// CollectWants fetches the per-recipient data the checks still need. Group
// members and inbox rules are stored per recipient; recipient permissions,
// CAS mailboxes and mailboxes are appended to their tenant-wide lists without
// duplicates. A failure is recorded under the cmdlet's name with the address
// in the message (the whole cmdlet then counts as failed, the safe reading).
func (c *Client) CollectWants(ctx context.Context, p *collectors.Partial, w collectors.Wants) {
	var jobs []job
	for _, a := range unique(w.GroupMembers) {
		jobs = append(jobs, job{cmdlet: "Get-DistributionGroupMember", address: a, params: map[string]any{"Identity": a},
			store: func(objs []map[string]any) { p.SetExchangeFor("Get-DistributionGroupMember", a, objs) }})
	}
	for _, a := range unique(w.InboxRules) {
		jobs = append(jobs, job{cmdlet: "Get-InboxRule", address: a, params: map[string]any{"Mailbox": a},
			store: func(objs []map[string]any) { p.SetExchangeFor("Get-InboxRule", a, objs) }})
	}
	for _, a := range unique(w.RecipientPermissions) {
		jobs = append(jobs, job{cmdlet: "Get-RecipientPermission", address: a, params: map[string]any{"Identity": a, "AccessRights": "SendAs"},
			store: func(objs []map[string]any) {
				// Rows normally name their recipient in Identity; when one does
				// not, record which recipient was asked, or rows of several
				// recipients could not be told apart.
				for _, o := range objs {
					if s, _ := o["Identity"].(string); s == "" {
						o["Identity"] = a
					}
				}
				c.appendUnique(p, "Get-RecipientPermission", objs, rowKey)
			}})
	}
	for _, a := range unique(w.CASMailboxes) {
		jobs = append(jobs, job{cmdlet: "Get-CASMailbox", address: a, params: map[string]any{"Identity": a},
			store:    func(objs []map[string]any) { c.appendUnique(p, "Get-CASMailbox", objs, objectKey) },
			notFound: func() { c.appendUnique(p, "Get-CASMailbox", nil, objectKey) }})
	}
	for _, ref := range unique(w.Mailboxes) {
		jobs = append(jobs, job{cmdlet: "Get-Mailbox", address: ref, params: map[string]any{"Identity": ref},
			store: func(objs []map[string]any) { c.appendUnique(p, "Get-Mailbox", objs, objectKey) },
			// A reference that is not a mailbox (a contact, a group) is
			// answered by the other lists; nothing to add.
			notFound: func() {}})
	}
	c.run(ctx, p, jobs)
}

// run executes jobs concurrently; the client's semaphore bounds the requests.
func (c *Client) run(ctx context.Context, p *collectors.Partial, jobs []job) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ctx.Err() != nil && c.authFailed(p) {
				return // the token failure is already recorded
			}
			objs, err := c.Invoke(ctx, j.cmdlet, j.params)
			if err == nil {
				j.store(objs)
				return
			}
			var xe *Error
			if j.notFound != nil && errors.As(err, &xe) && xe.NotFound() {
				j.notFound()
				return
			}
			if errors.Is(err, ErrToken) {
				c.noteAuth(p, err)
				cancel() // every other call would fail the same way
				return
			}
			if c.authFailed(p) && ctx.Err() != nil {
				return // cancelled because of the token failure
			}
			if errors.As(err, &xe) {
				err = recordedError{xe} // the source names the cmdlet
			}
			if j.address != "" {
				err = fmt.Errorf("%s: %w", j.address, err)
			}
			p.AddError(j.cmdlet, err)
		}()
	}
	wg.Wait()
}

// noteAuth records a token failure once per partial snapshot, without the
// cmdlet that happened to meet it first.
func (c *Client) noteAuth(p *collectors.Partial, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authNoted[p] {
		return
	}
	c.authNoted[p] = true
	var xe *Error
	if errors.As(err, &xe) {
		err = fmt.Errorf("Exchange Online (%s): %s — %s", Scope, xe.Message, xe.Hint)
	}
	p.AddError("auth", err)
}

func (c *Client) authFailed(p *collectors.Partial) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authNoted[p]
}

// appendUnique adds objects to a tenant-wide list, skipping those already
// there, and creates the key when absent (an empty answer is still data).
func (c *Client) appendUnique(p *collectors.Partial, cmdlet string, objs []map[string]any, key func(map[string]any) string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	have := map[string]bool{}
	cur, present := p.Exchange()[cmdlet]
	if list, ok := cur.([]any); ok {
		for _, o := range list {
			if m, ok := o.(map[string]any); ok {
				have[key(m)] = true
			}
		}
	}
	var add []map[string]any
	for _, o := range objs {
		k := key(o)
		if have[k] {
			continue
		}
		have[k] = true
		add = append(add, o)
	}
	if len(add) > 0 || !present {
		p.AppendExchange(cmdlet, add)
	}
}

// objectKey identifies a directory object by its GUIDs, falling back to the
// whole object.
func objectKey(o map[string]any) string {
	for _, k := range []string{"ExchangeObjectId", "Guid", "ExternalDirectoryObjectId", "DistinguishedName"} {
		if s, ok := o[k].(string); ok && s != "" {
			return k + "=" + strings.ToLower(s)
		}
	}
	return rowKey(o)
}

// rowKey identifies a row by its whole content (permission rows share their
// recipient's Identity).
func rowKey(o map[string]any) string {
	b, _ := json.Marshal(o)
	return string(b)
}

func unique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		k := strings.ToLower(strings.TrimSpace(s))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, strings.TrimSpace(s))
	}
	return out
}
