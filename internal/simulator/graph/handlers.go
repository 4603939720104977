package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/ticketguard/ticketguard/internal/simulator/fixture"
)

var (
	messageRuleCollection = &collection{
		typeName:    "microsoft.graph.messageRule",
		properties:  []string{"id", "displayName", "sequence", "isEnabled", "hasError", "isReadOnly", "conditions", "exceptions", "actions"},
		defaultPage: 10, // Outlook collections page by 10 unless $top says otherwise
		maxTop:      1000,
		alwaysKeep:  []string{"id"},
	}
	contactProperties = []string{
		"id", "deletedDateTime", "addresses", "companyName", "department", "displayName", "givenName",
		"jobTitle", "mail", "mailNickname", "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors",
		"onPremisesSyncEnabled", "phones", "proxyAddresses", "serviceProvisioningErrors", "surname",
	}
	groupProperties = []string{
		"id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName",
		"groupTypes", "mail", "mailEnabled", "mailNickname", "onPremisesSyncEnabled", "proxyAddresses",
		"securityEnabled", "securityIdentifier", "visibility",
	}
	userProperties = []string{
		"id", "accountEnabled", "businessPhones", "companyName", "createdDateTime", "department",
		"displayName", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "officeLocation",
		"onPremisesSyncEnabled", "otherMails", "preferredLanguage", "proxyAddresses", "surname",
		"usageLocation", "userPrincipalName", "userType",
	}
	// userDefault is what Graph returns for a user when no $select is given.
	userDefault = []string{
		"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
	}
	contactCollection = &collection{
		typeName: "microsoft.graph.orgContact", properties: contactProperties,
		defaultPage: 100, maxTop: 999,
	}
	groupCollection = &collection{
		typeName: "microsoft.graph.group", properties: groupProperties,
		defaultPage: 100, maxTop: 999,
	}
	memberCollection = &collection{
		typeName:    "microsoft.graph.directoryObject",
		properties:  union(userProperties, contactProperties, groupProperties),
		defaultPage: 100, maxTop: 999,
		alwaysKeep: []string{"@odata.type"},
	}
	traceCollection = &collection{
		typeName: "microsoft.graph.exchangeMessageTrace",
		properties: []string{"id", "senderAddress", "recipientAddress", "messageId", "receivedDateTime",
			"subject", "size", "fromIP", "toIP", "status"},
		defaultPage: 1000, maxTop: 5000,
	}
	traceDetailCollection = &collection{
		typeName:    "microsoft.graph.exchangeMessageTraceDetail",
		properties:  []string{"id", "messageId", "dateTime", "event", "action", "description", "data"},
		defaultPage: 1000, maxTop: 5000,
	}
)

func union(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// ---- messageRules

func (h *Handler) listMessageRules(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query, user string) {
	var rules []map[string]any
	var apiErr *apiError
	h.tenants.Read(t, func(t *fixture.Tenant) { rules, apiErr = messageRules(t, user) })
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	h.page(w, r, q, messageRuleCollection, fmt.Sprintf("users('%s')/mailFolders('inbox')/messageRules", user), rules)
}

// messageRules returns the inbox rules of the mailbox user names.
func messageRules(t *fixture.Tenant, user string) ([]map[string]any, *apiError) {
	dir := newDirectory(t.Exchange)
	mbx := dir.user(user)
	key := normAddr(user)
	if mbx != nil {
		key = mbx.primary
	}
	unknownUser := &apiError{http.StatusNotFound, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", user)}

	if m, ok := graphMap(t, "messageRules"); ok {
		v, found := lookup(m, key)
		if !found && mbx == nil {
			return nil, unknownUser
		}
		return objects(v), nil
	}
	inbox, ok := exchangeValue(t, "Get-InboxRule")
	if !ok {
		if mbx == nil {
			return nil, unknownUser
		}
		return nil, noData("inbox rules", "messageRules", "Get-InboxRule")
	}
	v, found := lookup(asMap(inbox), key)
	if !found && mbx == nil {
		return nil, unknownUser
	}
	rows := objects(v)
	rules := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		rules = append(rules, ruleFromInboxRule(row, dir))
	}
	return rules, nil
}

// createMessageRule adds a rule to the mailbox (POST), as a user or admin
// changing the tenant would; tests use it for drift and for gzip bodies.
func (h *Handler) createMessageRule(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query, user string) {
	body, apiErr := readBody(r)
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	var rule map[string]any
	if err := json.Unmarshal(body, &rule); err != nil || rule == nil {
		h.fail(w, q, &apiError{http.StatusBadRequest, "RequestBodyRead", "The request body is not a JSON object."})
		return
	}
	if s, _ := rule["displayName"].(string); strings.TrimSpace(s) == "" {
		h.fail(w, q, &apiError{http.StatusBadRequest, "ErrorInvalidParameter", "The rule's displayName is required."})
		return
	}
	for k := range rule {
		if strings.HasPrefix(k, "@") {
			delete(rule, k)
		}
	}
	rule["id"] = ruleID(map[string]any{"Identity": user + "|" + newUUID()})
	for k, def := range map[string]any{"isEnabled": true, "hasError": false, "isReadOnly": false, "conditions": map[string]any{}, "actions": map[string]any{}} {
		if _, ok := rule[k]; !ok {
			rule[k] = def
		}
	}
	err := h.tenants.Update(t.Name, func(t *fixture.Tenant) {
		var rules []map[string]any
		rules, apiErr = messageRules(t, user)
		if apiErr != nil {
			return
		}
		all, ok := graphMap(t, "messageRules")
		if !ok {
			// Materialise the derived rules of every mailbox, so the
			// others read the same as before the first change.
			all = map[string]any{}
			inbox, _ := exchangeValue(t, "Get-InboxRule")
			dir := newDirectory(t.Exchange)
			for addr, v := range asMap(inbox) {
				var list []any
				for _, row := range objects(v) {
					list = append(list, ruleFromInboxRule(row, dir))
				}
				all[normAddr(addr)] = list
			}
		}
		key := normAddr(user)
		if mbx := newDirectory(t.Exchange).user(user); mbx != nil {
			key = mbx.primary
		}
		list := make([]any, 0, len(rules)+1)
		for _, r := range rules {
			list = append(list, r)
		}
		all[key] = append(list, rule)
		if t.Graph == nil {
			t.Graph = map[string]any{}
		}
		t.Graph["messageRules"] = all
	})
	if err == nil && apiErr == nil {
		rule["@odata.context"] = baseURL(r) + fmt.Sprintf("/$metadata#users('%s')/mailFolders('inbox')/messageRules/$entity", user)
		writeJSON(w, http.StatusCreated, rule)
		return
	}
	if apiErr == nil {
		apiErr = &apiError{http.StatusNotFound, "ErrorInvalidUser", err.Error()}
	}
	h.fail(w, q, apiErr)
}

// ---- contacts

func (h *Handler) listContacts(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
	var items []map[string]any
	var apiErr *apiError
	h.tenants.Read(t, func(t *fixture.Tenant) { items, apiErr = contacts(t) })
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	h.page(w, r, q, contactCollection, "contacts", items)
}

func contacts(t *fixture.Tenant) ([]map[string]any, *apiError) {
	if v, ok := graphValue(t, "contacts"); ok {
		return objects(v), nil
	}
	v, ok := exchangeValue(t, "Get-MailContact")
	if !ok {
		return nil, noData("contacts", "contacts", "Get-MailContact")
	}
	rows := objects(v)
	out := make([]map[string]any, 0, len(rows))
	for _, o := range rows {
		out = append(out, contactFromMailContact(o))
	}
	return out, nil
}

// ---- groups and members

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query) {
	match, apiErr := groupFilter(q.filter)
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	var all []map[string]any
	h.tenants.Read(t, func(t *fixture.Tenant) { all, apiErr = groups(t) })
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	var items []map[string]any
	for _, g := range all {
		if match(g) {
			items = append(items, g)
		}
	}
	h.page(w, r, q, groupCollection, "groups", items)
}

// groupFilter supports what collectors send: mail eq '...' (and id eq).
func groupFilter(filter string) (func(map[string]any) bool, *apiError) {
	if strings.TrimSpace(filter) == "" {
		return func(map[string]any) bool { return true }, nil
	}
	clauses, err := parseFilter(filter)
	if err != nil || len(clauses) != 1 || clauses[0].op != "eq" || (clauses[0].prop != "mail" && clauses[0].prop != "id") {
		return nil, &apiError{http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for resource 'Group'."}
	}
	c := clauses[0]
	return func(g map[string]any) bool { return strings.EqualFold(str(g[c.prop]), c.value) }, nil
}

// groups lists the tenant's groups: the distribution groups of the fixture,
// plus one for every groupMembers key that names none of them.
func groups(t *fixture.Tenant) ([]map[string]any, *apiError) {
	dg, haveDG := exchangeValue(t, "Get-DistributionGroup")
	members, haveMembers := graphMap(t, "groupMembers")
	if !haveDG && !haveMembers {
		return nil, noData("groups", "groupMembers", "Get-DistributionGroup")
	}
	var out []map[string]any
	seen := map[string]bool{}
	for _, o := range objects(dg) {
		g := groupFromDistributionGroup(o)
		out = append(out, g)
		seen[normAddr(str(g["mail"]))] = true
		for _, p := range strs(o["EmailAddresses"]) {
			seen[normAddr(p)] = true
		}
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if addr := normAddr(k); !seen[addr] {
			out = append(out, map[string]any{
				"id": stableID("group:" + addr), "displayName": k, "mail": k, "mailEnabled": true,
				"mailNickname": strings.SplitN(k, "@", 2)[0], "securityEnabled": false,
				"groupTypes": []any{}, "proxyAddresses": []any{"SMTP:" + k},
			})
			seen[addr] = true
		}
	}
	return out, nil
}

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request, t *fixture.Tenant, q *query, groupID string) {
	var items []map[string]any
	var apiErr *apiError
	h.tenants.Read(t, func(t *fixture.Tenant) { items, apiErr = groupMembers(t, groupID) })
	if apiErr != nil {
		h.fail(w, q, apiErr)
		return
	}
	if q.selected == nil {
		// Users come back with Graph's default property set.
		for i, m := range items {
			if m["@odata.type"] == "#microsoft.graph.user" {
				items[i] = (&collection{alwaysKeep: []string{"@odata.type"}}).project(m, userDefault)
			}
		}
	}
	h.page(w, r, q, memberCollection, "directoryObjects", items)
}

func groupMembers(t *fixture.Tenant, groupID string) ([]map[string]any, *apiError) {
	all, apiErr := groups(t)
	if apiErr != nil {
		return nil, apiErr
	}
	addr := ""
	for _, g := range all {
		if strings.EqualFold(str(g["id"]), groupID) {
			addr = str(g["mail"])
			break
		}
	}
	if addr == "" {
		return nil, &apiError{http.StatusNotFound, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", groupID)}
	}
	if m, ok := graphMap(t, "groupMembers"); ok {
		v, _ := lookup(m, addr)
		return objects(v), nil
	}
	rows, ok := exchangeValue(t, "Get-DistributionGroupMember")
	if !ok {
		return nil, noData("group members", "groupMembers", "Get-DistributionGroupMember")
	}
	v, _ := lookup(asMap(rows), addr)
	dir := newDirectory(t.Exchange)
	var out []map[string]any
	for _, row := range objects(v) {
		if m, ok := memberFromRow(row, dir); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// ---- fixture access

// graphValue returns t.Graph[key] when the fixture has it (not null).
func graphValue(t *fixture.Tenant, key string) (any, bool) {
	v, ok := t.Graph[key]
	return v, ok && v != nil
}

func graphMap(t *fixture.Tenant, key string) (map[string]any, bool) {
	v, ok := graphValue(t, key)
	if !ok {
		return nil, false
	}
	m := asMap(v)
	return m, m != nil
}

func exchangeValue(t *fixture.Tenant, cmdlet string) (any, bool) {
	v, ok := t.Exchange[cmdlet]
	return v, ok && v != nil
}
