package graph

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
)

// Derivation of Graph objects from the Exchange fixture; the mapping is
// documented in the package comment.

// ruleFromInboxRule turns one Get-InboxRule object into a messageRule.
func ruleFromInboxRule(o map[string]any, dir *directory) map[string]any {
	rule := map[string]any{
		"id":          ruleID(o),
		"displayName": str(o["Name"]),
		"sequence":    number(o["Priority"]),
		"isEnabled":   true,
		"hasError":    false,
		"isReadOnly":  false,
	}
	if b, ok := boolean(o["Enabled"]); ok {
		rule["isEnabled"] = b
	}
	if b, ok := boolean(o["InError"]); ok {
		rule["hasError"] = b
	}

	// Outlook returns only the predicates and actions that are set.
	conditions := map[string]any{}
	recipientsTo(conditions, "fromAddresses", o["From"], dir)
	recipientsTo(conditions, "sentToAddresses", o["SentTo"], dir)
	for exch, graph := range map[string]string{
		"SubjectContainsWords":       "subjectContains",
		"SubjectOrBodyContainsWords": "bodyOrSubjectContains",
		"HeaderContainsWords":        "headerContains",
		"FromAddressContainsWords":   "senderContains",
	} {
		if words := strs(o[exch]); len(words) > 0 {
			conditions[graph] = words
		}
	}
	flagTo(conditions, "sentToOrCcMe", o["MyNameInToOrCcBox"])
	flagTo(conditions, "hasAttachments", o["HasAttachment"])
	rule["conditions"] = conditions

	actions := map[string]any{}
	recipientsTo(actions, "forwardTo", o["ForwardTo"], dir)
	recipientsTo(actions, "redirectTo", o["RedirectTo"], dir)
	recipientsTo(actions, "forwardAsAttachmentTo", o["ForwardAsAttachmentTo"], dir)
	if f := str(o["MoveToFolder"]); f != "" {
		actions["moveToFolder"] = folderID(f)
	}
	if f := str(o["CopyToFolder"]); f != "" {
		actions["copyToFolder"] = folderID(f)
	}
	flagTo(actions, "delete", o["DeleteMessage"])
	flagTo(actions, "markAsRead", o["MarkAsRead"])
	flagTo(actions, "stopProcessingRules", o["StopProcessingRules"])
	rule["actions"] = actions
	return rule
}

// ruleID is the Graph id of an inbox rule: base64 of its 64-bit RuleIdentity
// (which exceeds int64, hence parsed as unsigned).
func ruleID(o map[string]any) string {
	var b [8]byte
	if n, err := strconv.ParseUint(strings.TrimSpace(str(o["RuleIdentity"])), 10, 64); err == nil {
		binary.BigEndian.PutUint64(b[:], n)
	} else {
		h := sha1.Sum([]byte(str(o["Identity"]) + "|" + str(o["Name"])))
		copy(b[:], h[:8])
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// folderID is an opaque, stable folder id for a folder name.
func folderID(name string) string {
	h := sha1.Sum([]byte("folder:" + strings.ToLower(name)))
	return "AAMkA" + base64.RawURLEncoding.EncodeToString(h[:])
}

func flagTo(m map[string]any, key string, v any) {
	if b, ok := boolean(v); ok && b {
		m[key] = true
	}
}

func recipientsTo(m map[string]any, key string, v any, dir *directory) {
	refs := strs(v)
	if len(refs) == 0 {
		return
	}
	list := make([]any, 0, len(refs))
	for _, ref := range refs {
		list = append(list, recipientFromRef(ref, dir))
	}
	m[key] = list
}

// recipientFromRef turns an Exchange recipient reference into Graph's
// {"emailAddress": {"name", "address"}}. Written forms: `"Name" [SMTP:a@b]`,
// `"Name" [EX:/o=...]` (a LegacyExchangeDN), a bare address, DN or name.
func recipientFromRef(ref string, dir *directory) map[string]any {
	name, target := "", strings.TrimSpace(ref)
	if strings.HasSuffix(target, "]") {
		if i := strings.LastIndex(target, "["); i >= 0 {
			name = strings.Trim(strings.TrimSpace(target[:i]), `"`)
			target = strings.TrimSpace(target[i+1 : len(target)-1])
		}
	}
	if prefix, rest, ok := strings.Cut(target, ":"); ok && !strings.Contains(prefix, "/") {
		switch strings.ToUpper(prefix) {
		case "SMTP", "EX", "X500":
			target = rest
		}
	}
	address := target
	if r := dir.resolve(target); r != nil {
		if r.mail != "" {
			address = r.mail
		}
		if name == "" {
			name = r.name
		}
	}
	if name == "" {
		name = address
	}
	return map[string]any{"emailAddress": map[string]any{"name": name, "address": address}}
}

// contactFromMailContact turns a Get-MailContact (or member row) object into
// an orgContact.
func contactFromMailContact(o map[string]any) map[string]any {
	id := firstOf(o, "ExternalDirectoryObjectId", "Guid", "ExchangeObjectId")
	mail := stripSMTP(str(o["ExternalEmailAddress"]))
	if mail == "" {
		mail = strings.TrimSpace(str(o["PrimarySmtpAddress"]))
	}
	if id == "" {
		id = stableID("contact:" + mail)
	}
	return map[string]any{
		"id":                           id,
		"deletedDateTime":              nil,
		"addresses":                    []any{},
		"companyName":                  nil,
		"department":                   nil,
		"displayName":                  str(o["DisplayName"]),
		"givenName":                    nil,
		"jobTitle":                     nil,
		"mail":                         mail,
		"mailNickname":                 str(o["Alias"]),
		"onPremisesLastSyncDateTime":   nil,
		"onPremisesProvisioningErrors": []any{},
		"onPremisesSyncEnabled":        nil,
		"phones":                       []any{},
		"proxyAddresses":               stringList(o["EmailAddresses"]),
		"serviceProvisioningErrors":    []any{},
		"surname":                      nil,
	}
}

// groupFromDistributionGroup turns a Get-DistributionGroup (or member row)
// object into a group.
func groupFromDistributionGroup(o map[string]any) map[string]any {
	mail := strings.TrimSpace(str(o["PrimarySmtpAddress"]))
	id := firstOf(o, "ExternalDirectoryObjectId", "Guid", "ExchangeObjectId")
	if id == "" {
		id = stableID("group:" + mail)
	}
	groupType := strings.ToLower(str(o["GroupType"]) + " " + str(o["RecipientTypeDetails"]))
	groupTypes := []any{}
	if strings.Contains(groupType, "groupmailbox") {
		groupTypes = []any{"Unified"}
	}
	return map[string]any{
		"id":              id,
		"deletedDateTime": nil,
		"description":     nilIfEmpty(str(o["Description"])),
		"displayName":     str(o["DisplayName"]),
		"groupTypes":      groupTypes,
		"mail":            mail,
		"mailEnabled":     true,
		"mailNickname":    str(o["Alias"]),
		"proxyAddresses":  stringList(o["EmailAddresses"]),
		"securityEnabled": strings.Contains(groupType, "securityenabled") || strings.Contains(groupType, "security"),
		"visibility":      nil,
	}
}

// userFromMailbox turns a mailbox (or a member row, completed from the
// mailbox it names) into a user.
func userFromMailbox(o map[string]any, mbx *recipient) map[string]any {
	src := o
	if mbx != nil {
		src = mbx.obj
	}
	id := firstOf(src, "ExternalDirectoryObjectId", "Guid", "ExchangeObjectId")
	mail := strings.TrimSpace(str(src["PrimarySmtpAddress"]))
	if id == "" {
		id = stableID("user:" + mail)
	}
	upn := firstOf(src, "UserPrincipalName", "WindowsLiveID", "MicrosoftOnlineServicesID")
	if upn == "" {
		upn = mail
	}
	return map[string]any{
		"id":                id,
		"businessPhones":    []any{},
		"displayName":       str(src["DisplayName"]),
		"givenName":         nil,
		"jobTitle":          nil,
		"mail":              mail,
		"mailNickname":      str(src["Alias"]),
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": nil,
		"proxyAddresses":    stringList(src["EmailAddresses"]),
		"surname":           nil,
		"userPrincipalName": upn,
	}
}

// memberFromRow turns a Get-DistributionGroupMember row into a
// directoryObject with its @odata.type; ok is false for recipients that are
// not directory objects (dynamic distribution groups).
func memberFromRow(row map[string]any, dir *directory) (map[string]any, bool) {
	kind := strings.ToLower(str(row["RecipientType"]))
	details := strings.ToLower(str(row["RecipientTypeDetails"]))
	var obj map[string]any
	var odataType string
	switch {
	case strings.Contains(kind, "dynamic") || strings.Contains(details, "dynamic"):
		return nil, false
	case strings.Contains(kind, "contact"):
		obj, odataType = contactFromMailContact(row), "#microsoft.graph.orgContact"
	case strings.Contains(kind, "group") || details == "groupmailbox":
		obj, odataType = groupFromDistributionGroup(row), "#microsoft.graph.group"
	default: // UserMailbox, MailUser, User
		var mbx *recipient
		for _, key := range []string{str(row["ExternalDirectoryObjectId"]), str(row["PrimarySmtpAddress"]), str(row["Guid"])} {
			if r := dir.resolve(key); r != nil && r.kind == "mailbox" {
				mbx = r
				break
			}
		}
		obj, odataType = userFromMailbox(row, mbx), "#microsoft.graph.user"
	}
	obj["@odata.type"] = odataType
	return obj, true
}

func stringList(v any) []any {
	out := []any{}
	for _, s := range strs(v) {
		out = append(out, s)
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
