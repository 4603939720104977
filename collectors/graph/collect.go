package graph

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/contacts"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/ticketguard/ticketguard/collectors"
)

// Error sources and snapshot keys (docs/DESIGN.md, "Collector plumbing").
const (
	SourceMessageRules  = "graph:messageRules"
	SourceContacts      = "graph:contacts"
	SourceGroupMembers  = "graph:groupMembers"
	SourceMessageTraces = "graph:messageTraces"
	// SourceMessageTraceDetails is a failure to read why a message failed;
	// the trace it belongs to is still complete.
	SourceMessageTraceDetails = "graph:messageTraceDetails"
)

// $select of each collection: what the checks and the report read, and no
// more (it also lowers a directory request's throttling cost).
var (
	ruleSelect    = []string{"id", "displayName", "sequence", "isEnabled", "hasError", "isReadOnly", "conditions", "actions"}
	contactSelect = []string{"id", "displayName", "mail", "mailNickname", "proxyAddresses"}
	groupSelect   = []string{"id", "displayName", "mail"}
	// Members are users, contacts or groups; $select on the base type may
	// name properties of any of them.
	memberSelect = []string{"id", "displayName", "mail", "mailNickname", "proxyAddresses", "userPrincipalName"}
)

// Message trace limits (List messageTraces, Graph v1.0): one query spans at
// most 10 days, and starts at most 90 days back.
const (
	MaxTraceWindow = 90 * 24 * time.Hour
	traceSlice     = 10 * 24 * time.Hour
	// MaxTraceDetails is how many failed messages get their details read.
	MaxTraceDetails = 10
)

// CollectMessageRules reads the inbox rules of each mailbox into
// graph.messageRules[address] (Graph permission MailboxSettings.Read). A
// mailbox that fails is left out and recorded; the others are kept.
func (c *Client) CollectMessageRules(ctx context.Context, p *collectors.Partial, addresses []string) {
	addresses = distinct(addresses)
	if len(addresses) == 0 {
		return
	}
	c.onStep(fmt.Sprintf("%s (%s)", SourceMessageRules, count(len(addresses), "mailbox", "mailboxes")))
	c.each(ctx, addresses, func(ctx context.Context, addr string) {
		rules, err := c.messageRules(ctx, addr)
		if err != nil {
			p.AddError(SourceMessageRules, err)
			return
		}
		p.SetGraphFor("messageRules", addr, rules)
	})
}

func (c *Client) messageRules(ctx context.Context, addr string) ([]any, error) {
	what := "inbox rules of " + addr
	res, err := c.client.Users().ByUserId(addr).MailFolders().ByMailFolderId("inbox").MessageRules().Get(ctx,
		&users.ItemMailFoldersItemMessageRulesRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemMailFoldersItemMessageRulesRequestBuilderGetQueryParameters{Select: ruleSelect},
		})
	if err != nil {
		return nil, describe(what, err)
	}
	return collect[models.MessageRuleable](ctx, c, what, res, models.CreateMessageRuleCollectionResponseFromDiscriminatorValue, false)
}

// CollectContacts reads the organisation's contacts into graph.contacts
// (OrgContact.Read.All).
func (c *Client) CollectContacts(ctx context.Context, p *collectors.Partial) {
	c.onStep(SourceContacts)
	what := "organisational contacts"
	res, err := c.client.Contacts().Get(ctx, &contacts.ContactsRequestBuilderGetRequestConfiguration{
		QueryParameters: &contacts.ContactsRequestBuilderGetQueryParameters{Select: contactSelect, Top: &c.pageSize},
	})
	if err != nil {
		p.AddError(SourceContacts, describe(what, err))
		return
	}
	items, err := collect[models.OrgContactable](ctx, c, what, res, models.CreateOrgContactCollectionResponseFromDiscriminatorValue, false)
	if err != nil {
		p.AddError(SourceContacts, err)
		return
	}
	p.SetGraph("contacts", items)
}

// CollectGroupMembers reads the direct members of each group, found by its
// address, into graph.groupMembers[address] (GroupMember.Read.All; contact
// members carry their addresses only with OrgContact.Read.All).
func (c *Client) CollectGroupMembers(ctx context.Context, p *collectors.Partial, groupAddresses []string) {
	groupAddresses = distinct(groupAddresses)
	if len(groupAddresses) == 0 {
		return
	}
	c.onStep(fmt.Sprintf("%s (%s)", SourceGroupMembers, count(len(groupAddresses), "group", "groups")))
	c.each(ctx, groupAddresses, func(ctx context.Context, addr string) {
		members, err := c.groupMembers(ctx, addr)
		if err != nil {
			p.AddError(SourceGroupMembers, err)
			return
		}
		p.SetGraphFor("groupMembers", addr, members)
	})
}

func (c *Client) groupMembers(ctx context.Context, addr string) ([]any, error) {
	what := "group " + addr
	filter := fmt.Sprintf("mail eq '%s'", odataString(addr))
	res, err := c.client.Groups().Get(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: &filter, Select: groupSelect},
	})
	if err != nil {
		return nil, describe(what, err)
	}
	found, err := collect[models.Groupable](ctx, c, what, res, models.CreateGroupCollectionResponseFromDiscriminatorValue, false)
	if err != nil {
		return nil, err
	}
	var id string
	for _, g := range found {
		if s, _ := g.(map[string]any)["id"].(string); s != "" {
			id = s
			break
		}
	}
	if id == "" {
		return nil, &requestError{what: what, message: "no group in the directory has this address"}
	}

	what = "members of group " + addr
	mres, err := c.client.Groups().ByGroupId(id).Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: memberSelect, Top: &c.pageSize},
	})
	if err != nil {
		return nil, describe(what, err)
	}
	return collect[models.DirectoryObjectable](ctx, c, what, mres, models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue, true)
}

// CollectMessageTraces reads the message trace of mail to recipient over the
// last window into graph.messageTraces (ExchangeMessageTrace.Read.All). A
// window over 10 days is read as consecutive 10-day queries, as the API
// requires; over 90 days is refused.
func (c *Client) CollectMessageTraces(ctx context.Context, p *collectors.Partial, recipient string, window time.Duration) {
	recipient = collectors.NormalizeAddress(recipient)
	c.onStep(SourceMessageTraces)
	what := "message trace of mail to " + recipient
	if recipient == "" {
		p.AddError(SourceMessageTraces, &requestError{what: what, message: "no recipient address given"})
		return
	}
	if window <= 0 || window > MaxTraceWindow {
		p.AddError(SourceMessageTraces, &requestError{what: what, message: fmt.Sprintf("window %s is outside Graph's limit of 90 days", window)})
		return
	}
	end := c.now().UTC().Truncate(time.Second)
	start := end.Add(-window)
	var items []map[string]any
	seen := map[string]bool{}
	for from := start; from.Before(end); from = from.Add(traceSlice) {
		to := from.Add(traceSlice)
		if to.After(end) {
			to = end
		}
		page, err := c.messageTraces(ctx, what, recipient, from, to)
		if err != nil {
			p.AddError(SourceMessageTraces, err)
			return
		}
		for _, it := range page {
			// ge and le are both inclusive: a message on a slice boundary
			// comes back twice.
			id, _ := it["id"].(string)
			if id != "" && seen[id] {
				continue
			}
			seen[id] = true
			items = append(items, it)
		}
	}
	c.addFailureDetails(ctx, p, recipient, items)
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it
	}
	p.SetGraph("messageTraces", map[string]any{
		"recipient": recipient,
		"start":     start.Format(time.RFC3339),
		"end":       end.Format(time.RFC3339),
		"items":     list,
	})
}

// addFailureDetails attaches to the most recent failed messages their
// trace details ("details": [exchangeMessageTraceDetail]), whose events
// carry the bounce's reason (550 5.7.520 when external forwarding is
// refused), which the delivery-failures check names. The trace API allows
// 100 requests in 5 minutes, hence the cap. A detail that cannot be read
// is recorded under its own source: the trace itself is still complete.
func (c *Client) addFailureDetails(ctx context.Context, p *collectors.Partial, recipient string, items []map[string]any) {
	var failed []map[string]any
	for _, it := range items {
		if s, _ := it["status"].(string); strings.EqualFold(s, "failed") {
			failed = append(failed, it)
		}
	}
	// Newest first, whatever order the slices came back in.
	sort.SliceStable(failed, func(i, j int) bool {
		a, _ := failed[i]["receivedDateTime"].(string)
		b, _ := failed[j]["receivedDateTime"].(string)
		return a > b
	})
	if len(failed) > MaxTraceDetails {
		failed = failed[:MaxTraceDetails]
	}
	var mu sync.Mutex
	ids := make([]string, 0, len(failed))
	byID := map[string]map[string]any{}
	for _, it := range failed {
		if id, _ := it["id"].(string); id != "" {
			ids = append(ids, id)
			byID[id] = it
		}
	}
	c.each(ctx, ids, func(ctx context.Context, id string) {
		details, err := c.traceDetails(ctx, fmt.Sprintf("details of message trace %s to %s", id, recipient), id, recipient)
		if err != nil {
			p.AddError(SourceMessageTraceDetails, err)
			return
		}
		list := make([]any, len(details))
		for i, d := range details {
			list[i] = d
		}
		mu.Lock()
		byID[id]["details"] = list
		mu.Unlock()
	})
}

// messageTraces runs one query through the SDK's adapter (the endpoint has
// no request builder in the v1.0 SDK), so it shares the client's middleware:
// authentication, retries, statistics.
func (c *Client) messageTraces(ctx context.Context, what, recipient string, from, to time.Time) ([]map[string]any, error) {
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.UrlTemplate = "{+baseurl}/admin/exchange/tracing/messageTraces{?%24filter,%24top}"
	ri.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	ri.QueryParametersAny["%24filter"] = fmt.Sprintf("receivedDateTime ge %s and receivedDateTime le %s and recipientAddress eq '%s'",
		from.Format(time.RFC3339), to.Format(time.RFC3339), odataString(recipient))
	ri.QueryParametersAny["%24top"] = int32(tracePageSize)
	// No $select: the API documents only $filter, $top and $skiptoken, and
	// its ten scalar properties are all worth keeping.
	return c.sendWire(ctx, what, ri, traceShape)
}

// traceDetails reads the events of one message (getDetailsByRecipient):
// for a failed message, the delivery event carries the bounce's reason.
func (c *Client) traceDetails(ctx context.Context, what, traceID, recipient string) ([]map[string]any, error) {
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.UrlTemplate = "{+baseurl}/admin/exchange/tracing/messageTraces/{traceId}/getDetailsByRecipient(recipientAddress='{recipientAddress}')"
	ri.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	ri.PathParameters["traceId"] = traceID
	ri.PathParameters["recipientAddress"] = odataString(recipient)
	return c.sendWire(ctx, what, ri, traceDetailShape)
}

// sendWire sends a request built by hand and walks its pages.
func (c *Client) sendWire(ctx context.Context, what string, ri *abstractions.RequestInformation, s *shape) ([]map[string]any, error) {
	ri.Headers.TryAdd("Accept", "application/json")
	res, err := c.adapter.Send(ctx, ri, s.page, errorMapping)
	if err != nil {
		return nil, describe(what, err)
	}
	it, err := msgraphgocore.NewPageIterator[*wireObject](res, c.adapter, s.page)
	if err != nil {
		return nil, describe(what, err)
	}
	out := []map[string]any{}
	err = it.Iterate(ctx, func(o *wireObject) bool {
		out = append(out, o.props)
		return true
	})
	if err != nil {
		return nil, describe(what, err)
	}
	return out, nil
}

// collect walks every page of a collection response with the SDK's page
// iterator and returns the items as wire JSON. Any failure, including on a
// later page, fails the whole collection: a partial list must not pass for
// a complete one.
func collect[T serialization.Parsable](ctx context.Context, c *Client, what string, res any, page serialization.ParsableFactory, keepType bool) ([]any, error) {
	it, err := msgraphgocore.NewPageIterator[T](res, c.adapter, page)
	if err != nil {
		return nil, describe(what, err)
	}
	out := []any{}
	var convErr error
	err = it.Iterate(ctx, func(item T) bool {
		m, err := wire(item, keepType)
		if err != nil {
			convErr = err
			return false
		}
		out = append(out, m)
		return true
	})
	if err == nil {
		err = convErr
	}
	if err != nil {
		return nil, describe(what, err)
	}
	return out, nil
}

// each runs fn for every item with at most c.concurrency at once.
func (c *Client) each(ctx context.Context, items []string, fn func(context.Context, string)) {
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			// Not started: still one error per item, so nothing reads as
			// collected.
			fn(ctx, it)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, it)
		}()
	}
	wg.Wait()
}

// distinct normalises addresses and drops repeats and blanks, sorted.
func distinct(addrs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		a = collectors.NormalizeAddress(a)
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// odataString escapes a value for a single-quoted OData literal.
func odataString(s string) string { return strings.ReplaceAll(s, "'", "''") }
