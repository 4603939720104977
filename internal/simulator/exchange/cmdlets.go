package exchange

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

// cmdletSpec is one simulated cmdlet: the parameters it honours, whether it
// takes ResultSize (default 1000), and how it answers.
type cmdletSpec struct {
	name       string
	params     []string // honoured, in canonical case
	ignored    []string // real switches that change nothing here (accepted, no effect)
	resultSize bool
	run        func(q *query) ([]map[string]any, *exoErr)
}

// specs lists the cmdlets of the snapshot format. Parameter sets are from each
// cmdlet's page under https://learn.microsoft.com/powershell/module/exchangepowershell/
// (ResultSize: Get-Mailbox, Get-CASMailbox, Get-MailContact,
// Get-DistributionGroup, Get-DistributionGroupMember, Get-InboxRule,
// Get-RecipientPermission, Get-TransportRule, Get-RemoteDomain,
// Get-AcceptedDomain; the protection policies and rules take none).
var specs = []*cmdletSpec{
	{name: "Get-Mailbox", params: []string{"Identity", "Filter", "RecipientTypeDetails", "ResultSize"}, resultSize: true, run: listOf("Get-Mailbox")},
	{name: "Get-CASMailbox", params: []string{"Identity", "Filter", "ResultSize"}, resultSize: true, run: casMailboxes},
	{name: "Get-MailContact", params: []string{"Identity", "Filter", "RecipientTypeDetails", "ResultSize"}, resultSize: true, run: listOf("Get-MailContact")},
	{name: "Get-DistributionGroup", params: []string{"Identity", "Filter", "RecipientTypeDetails", "ResultSize"}, resultSize: true, run: listOf("Get-DistributionGroup")},
	{name: "Get-DistributionGroupMember", params: []string{"Identity", "ResultSize"}, ignored: []string{"IncludeSoftDeletedObjects", "ReadFromDomainController"}, resultSize: true, run: groupMembers},
	{name: "Get-InboxRule", params: []string{"Identity", "Mailbox", "ResultSize"}, ignored: []string{"IncludeHidden", "BypassScopeCheck"}, resultSize: true, run: inboxRules},
	{name: "Get-RecipientPermission", params: []string{"Identity", "AccessRights", "Trustee", "ResultSize"}, ignored: []string{"ReadFromDomainController"}, resultSize: true, run: recipientPermissions},
	{name: "Get-HostedOutboundSpamFilterPolicy", params: []string{"Identity"}, run: listOf("Get-HostedOutboundSpamFilterPolicy")},
	{name: "Get-HostedOutboundSpamFilterRule", params: []string{"Identity", "State"}, run: listOf("Get-HostedOutboundSpamFilterRule")},
	{name: "Get-AntiPhishPolicy", params: []string{"Identity"}, ignored: []string{"Advanced", "Spoof"}, run: listOf("Get-AntiPhishPolicy")},
	{name: "Get-AntiPhishRule", params: []string{"Identity", "State"}, run: listOf("Get-AntiPhishRule")},
	{name: "Get-EOPProtectionPolicyRule", params: []string{"Identity", "State"}, run: listOf("Get-EOPProtectionPolicyRule")},
	{name: "Get-RemoteDomain", params: []string{"Identity", "ResultSize"}, resultSize: true, run: listOf("Get-RemoteDomain")},
	{name: "Get-TransportRule", params: []string{"Identity", "State", "Filter", "ResultSize"}, ignored: []string{"ExcludeConditionActionDetails"}, resultSize: true, run: listOf("Get-TransportRule")},
	{name: "Get-TransportConfig", run: listOf("Get-TransportConfig")},
	{name: "Get-HostedConnectionFilterPolicy", params: []string{"Identity"}, run: listOf("Get-HostedConnectionFilterPolicy")},
	{name: "Get-AcceptedDomain", params: []string{"Identity", "ResultSize"}, resultSize: true, run: listOf("Get-AcceptedDomain")},
}

// Cmdlets returns the names of the simulated cmdlets.
func Cmdlets() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

func lookupSpec(name string) (*cmdletSpec, bool) {
	for _, s := range specs {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return nil, false
}

// canonical maps parameter names case-insensitively (PowerShell binds them
// that way) and refuses parameters the cmdlet does not take, with the text
// Exchange answers for an unknown parameter.
func (s *cmdletSpec) canonical(in map[string]any) (map[string]any, *exoErr) {
	out := map[string]any{}
	var unknown []string
	for k, v := range in {
		name := ""
		for _, p := range s.params {
			if strings.EqualFold(p, k) {
				name = p
			}
		}
		for _, p := range s.ignored {
			if strings.EqualFold(p, k) {
				name = "-" // accepted, no effect
			}
		}
		switch name {
		case "":
			unknown = append(unknown, k)
		case "-":
		default:
			out[name] = v
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &exoErr{http.StatusBadRequest, typeParamSet,
			"Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. " + strings.Join(unknown, ", ")}
	}
	return out, nil
}

// query is one cmdlet invocation against a tenant (read-locked by the caller).
type query struct {
	t      *fixture.Tenant
	params map[string]any
	strict bool
}

// str returns a single-valued parameter as a string.
func (q *query) str(name string) (string, bool) {
	switch x := q.params[name].(type) {
	case string:
		return x, strings.TrimSpace(x) != ""
	case json.Number:
		return x.String(), true
	case bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

// strs returns a multi-valued parameter (an array, or a comma-separated string).
func (q *query) strs(name string) []string {
	var out []string
	for _, s := range strings1(q.params[name]) {
		for _, part := range strings.Split(s, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// list reads a tenant-wide cmdlet's objects from the fixture.
func (q *query) list(cmdlet string) ([]map[string]any, *exoErr) {
	v, present := q.t.Exchange[cmdlet]
	rows, _ := objects(v, present)
	if !present && q.strict {
		return nil, denied(cmdlet)
	}
	return rows, nil
}

// perRecipient reads a per-recipient fixture map, keys normalised.
func (q *query) perRecipient(cmdlet string) (map[string][]map[string]any, bool, *exoErr) {
	v, present := q.t.Exchange[cmdlet]
	if !present && q.strict {
		return nil, false, denied(cmdlet)
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, false, nil
	}
	out := make(map[string][]map[string]any, len(m))
	for k, rows := range m {
		out[normRef(k)], _ = objects(rows, true)
	}
	return out, true, nil
}

func denied(cmdlet string) *exoErr {
	return &exoErr{http.StatusForbidden, typeAccessDenied, fmt.Sprintf(
		"The role assigned to application isn't supported in this scenario. (The simulated tenant has no %s data, so it answers as if the application's role did not grant it.)", cmdlet)}
}

func notFound(ref string) *exoErr {
	return &exoErr{http.StatusNotFound, typeNotFound, fmt.Sprintf(
		"The operation couldn't be performed because object '%s' couldn't be found on '%s'.", ref, backendServerName)}
}

func ambiguous(ref string) *exoErr {
	return &exoErr{http.StatusBadRequest, typeAmbiguous, fmt.Sprintf(
		"The operation couldn't be performed because '%s' matches multiple entries.", ref)}
}

func missingParam(name string) *exoErr {
	return &exoErr{http.StatusBadRequest, typeParamBinding, fmt.Sprintf(
		"Cannot process command because of one or more missing mandatory parameters: %s.", name)}
}

// listOf answers a tenant-wide cmdlet with the common parameters: Identity,
// State, RecipientTypeDetails, Filter.
func listOf(cmdlet string) func(q *query) ([]map[string]any, *exoErr) {
	return func(q *query) ([]map[string]any, *exoErr) {
		rows, err := q.list(cmdlet)
		if err != nil {
			return nil, err
		}
		return q.narrow(rows)
	}
}

// narrow applies Identity, State, RecipientTypeDetails and Filter.
func (q *query) narrow(rows []map[string]any) ([]map[string]any, *exoErr) {
	if id, ok := q.str("Identity"); ok {
		rows = resolve(rows, id)
		switch {
		case len(rows) == 0:
			return nil, notFound(id)
		case len(rows) > 1:
			return nil, ambiguous(id)
		}
	}
	if st, ok := q.str("State"); ok {
		rows = keep(rows, func(o map[string]any) bool {
			s, _ := o["State"].(string)
			return strings.EqualFold(s, st)
		})
	}
	if types := q.strs("RecipientTypeDetails"); len(types) > 0 {
		rows = keep(rows, func(o map[string]any) bool {
			s, _ := o["RecipientTypeDetails"].(string)
			for _, t := range types {
				if strings.EqualFold(s, t) {
					return true
				}
			}
			return false
		})
	}
	if f, ok := q.str("Filter"); ok {
		node, err := parseFilter(f, knownProps(rows))
		if err != nil {
			return nil, &exoErr{http.StatusBadRequest, typeParamBinding, err.Error()}
		}
		rows = keep(rows, node.match)
	}
	return rows, nil
}

// filterable are recipient properties a filter may name even when no object
// of the fixture carries them.
var filterable = []string{
	"Alias", "DisplayName", "Name", "PrimarySmtpAddress", "EmailAddresses", "ExternalEmailAddress",
	"ForwardingAddress", "ForwardingSmtpAddress", "DeliverToMailboxAndForward", "RecipientTypeDetails",
	"RecipientType", "UserPrincipalName", "WindowsEmailAddress", "ExternalDirectoryObjectId", "Guid",
	"DistinguishedName", "LegacyExchangeDN", "HiddenFromAddressListsEnabled", "State", "Priority", "Mode",
}

func knownProps(rows []map[string]any) func(string) bool {
	return func(p string) bool {
		for _, f := range filterable {
			if strings.EqualFold(f, p) {
				return true
			}
		}
		for _, o := range rows {
			if lookupFold(o, p) != nil {
				return true
			}
			for k := range o {
				if strings.EqualFold(k, p) {
					return true
				}
			}
		}
		return false
	}
}

func keep(rows []map[string]any, pred func(map[string]any) bool) []map[string]any {
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		if pred(r) {
			out = append(out, r)
		}
	}
	return out
}

// casMailboxes answers Get-CASMailbox: the fixture's rows, and for every
// mailbox without one a row with the defaults of a new mailbox, as Exchange
// has a CAS mailbox for every mailbox. Defaults per the Get-CASMailbox /
// Set-CASMailbox pages: protocols enabled, SmtpClientAuthenticationDisabled
// $null (the organisation setting applies).
func casMailboxes(q *query) ([]map[string]any, *exoErr) {
	v, present := q.t.Exchange["Get-CASMailbox"]
	rows, _ := objects(v, present)
	mailboxes, _ := objects(q.t.Exchange["Get-Mailbox"], true)
	covered := map[string]bool{}
	for _, r := range rows {
		for f := range forms(r) {
			covered[f] = true
		}
	}
	all := append([]map[string]any(nil), rows...)
	for _, m := range mailboxes {
		if a := primaryAddress(m); a != "" && covered[a] {
			continue
		}
		all = append(all, casRow(m))
	}
	return q.narrow(all)
}

func casRow(m map[string]any) map[string]any {
	row := map[string]any{
		"ActiveSyncEnabled": true, "OWAEnabled": true, "OWAforDevicesEnabled": true, "EwsEnabled": true,
		"PopEnabled": true, "ImapEnabled": true, "MAPIEnabled": true, "UniversalOutlookEnabled": true,
		"OutlookMobileEnabled": true, "ECPEnabled": true, "SmtpClientAuthenticationDisabled": nil,
		"IsValid": true, "ObjectState": "Unchanged",
	}
	for _, k := range []string{"Identity", "Id", "Name", "DisplayName", "PrimarySmtpAddress", "EmailAddresses", "LegacyExchangeDN",
		"ExternalDirectoryObjectId", "Guid", "DistinguishedName", "ExchangeVersion"} {
		if v, ok := m[k]; ok {
			row[k] = v
		}
	}
	return row
}

// recipients are every mail-enabled object of the tenant.
func (q *query) recipients() []map[string]any {
	var out []map[string]any
	for _, c := range []string{"Get-Mailbox", "Get-DistributionGroup", "Get-MailContact"} {
		rows, _ := objects(q.t.Exchange[c], true)
		out = append(out, rows...)
	}
	return out
}

// owner resolves an identity argument among candidates and returns the
// primary address a per-recipient fixture map is keyed by. A reference that
// matches no object but is itself a key of the map is accepted, so fixtures
// may hold data for recipients they do not list.
func owner(candidates []map[string]any, ref string, keys map[string][]map[string]any) (string, *exoErr) {
	match := resolve(candidates, ref)
	switch {
	case len(match) == 1:
		return primaryAddress(match[0]), nil
	case len(match) > 1:
		return "", ambiguous(ref)
	}
	if _, ok := keys[normRef(ref)]; ok {
		return normRef(ref), nil
	}
	return "", notFound(ref)
}

func groupMembers(q *query) ([]map[string]any, *exoErr) {
	id, ok := q.str("Identity")
	if !ok {
		return nil, missingParam("Identity")
	}
	members, _, err := q.perRecipient("Get-DistributionGroupMember")
	if err != nil {
		return nil, err
	}
	groups, _ := objects(q.t.Exchange["Get-DistributionGroup"], true)
	addr, err := owner(groups, id, members)
	if err != nil {
		return nil, err
	}
	return members[addr], nil
}

// inboxRules answers Get-InboxRule -Mailbox M [-Identity rule]. Run as an
// application, the cmdlet needs the mailbox named.
//
// A mailbox the fixture's Get-InboxRule map leaves out has no rules. A
// fixture with no Get-InboxRule at all (absent, or null: "not collected")
// answers 403 as for a role that does not grant the cmdlet (Global Reader
// does not), whatever StrictFixtures says: an empty answer would let a
// check pass on rules nobody provided. The Graph simulator answers its
// messageRules the same way (500 when it has neither data).
func inboxRules(q *query) ([]map[string]any, *exoErr) {
	if v, present := q.t.Exchange["Get-InboxRule"]; !present || v == nil {
		return nil, denied("Get-InboxRule")
	}
	mbx, ok := q.str("Mailbox")
	ruleID, hasRule := q.str("Identity")
	if !ok && hasRule {
		if m, rule, split := strings.Cut(ruleID, `\`); split {
			mbx, ok, ruleID = m, true, rule
		}
	}
	if !ok {
		return nil, missingParam("Mailbox")
	}
	rules, _, err := q.perRecipient("Get-InboxRule")
	if err != nil {
		return nil, err
	}
	mailboxes, _ := objects(q.t.Exchange["Get-Mailbox"], true)
	addr, err := owner(mailboxes, mbx, rules)
	if err != nil {
		return nil, err
	}
	rows := rules[addr]
	if hasRule {
		rows = keep(rows, func(o map[string]any) bool {
			for _, k := range []string{"Name", "RuleIdentity", "Identity"} {
				if s, ok := scalarString(o[k]); ok && (strings.EqualFold(s, ruleID) || strings.HasSuffix(strings.ToLower(s), `\`+strings.ToLower(ruleID))) {
					return true
				}
			}
			return false
		})
		if len(rows) == 0 {
			return nil, notFound(ruleID)
		}
	}
	return rows, nil
}

// recipientPermissions answers Get-RecipientPermission. The fixture may be a
// map keyed by recipient address or a flat list whose rows carry Identity;
// rows without Identity belong to the support recipient (the convention
// docs/DESIGN.md sets for snapshots, which only ever hold that recipient's).
func recipientPermissions(q *query) ([]map[string]any, *exoErr) {
	v, present := q.t.Exchange["Get-RecipientPermission"]
	if !present && q.strict {
		return nil, denied("Get-RecipientPermission")
	}
	byAddr, isMap, _ := q.perRecipient("Get-RecipientPermission")
	flat, _ := objects(v, present)

	var rows []map[string]any
	if id, ok := q.str("Identity"); ok {
		match := resolve(q.recipients(), id)
		switch {
		case len(match) > 1:
			return nil, ambiguous(id)
		case len(match) == 0:
			if r, ok := byAddr[normRef(id)]; ok {
				rows = r
				break
			}
			return nil, notFound(id)
		case isMap:
			rows = byAddr[primaryAddress(match[0])]
		default:
			names := forms(match[0])
			support := normRef(q.t.SupportAddress)
			mine := primaryAddress(match[0]) == support || names[support]
			rows = keep(flat, func(o map[string]any) bool {
				if s, ok := o["Identity"].(string); ok && s != "" {
					return names[normRef(s)]
				}
				return mine
			})
		}
	} else if isMap {
		keys := make([]string, 0, len(byAddr))
		for k := range byAddr {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rows = append(rows, byAddr[k]...)
		}
	} else {
		rows = flat
	}
	if rights := q.strs("AccessRights"); len(rights) > 0 {
		rows = keep(rows, func(o map[string]any) bool {
			for _, have := range accessRights(o["AccessRights"]) {
				for _, want := range rights {
					if strings.EqualFold(have, want) {
						return true
					}
				}
			}
			return false
		})
	}
	if trustee, ok := q.str("Trustee"); ok {
		rows = keep(rows, func(o map[string]any) bool {
			s, _ := o["Trustee"].(string)
			return normRef(s) == normRef(trustee)
		})
	}
	return rows, nil
}

// accessRights reads AccessRights as an array, a comma-joined string, or the
// integer enum other serialisers produce (SendAs = 256).
func accessRights(v any) []string {
	if n, ok := v.(json.Number); ok {
		if n.String() == "256" {
			return []string{"SendAs"}
		}
		return nil
	}
	var out []string
	for _, s := range strings1(v) {
		for _, p := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(p))
		}
	}
	return out
}
