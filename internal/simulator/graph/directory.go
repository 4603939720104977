package graph

import (
	"strings"
)

// recipient is one Exchange recipient of the fixture, indexed by every name
// it can be referred to by.
type recipient struct {
	kind    string // "mailbox", "contact" or "group"
	obj     map[string]any
	id      string // directory object id
	primary string // primary SMTP address, lower-case (for look-ups)
	mail    string // primary SMTP address as Exchange writes it
	name    string // display name
}

// directory indexes a tenant's Get-Mailbox, Get-MailContact and
// Get-DistributionGroup objects.
type directory struct {
	all       []*recipient
	byAddress map[string]*recipient // primary, smtp proxies, UPN, external address
	byID      map[string]*recipient // ExternalDirectoryObjectId, Guid, ExchangeObjectId, Identity
	byDN      map[string]*recipient // LegacyExchangeDN and X500 proxies
	byName    map[string]*recipient // DisplayName, Name, Alias
}

func newDirectory(exchange map[string]any) *directory {
	d := &directory{
		byAddress: map[string]*recipient{},
		byID:      map[string]*recipient{},
		byDN:      map[string]*recipient{},
		byName:    map[string]*recipient{},
	}
	for _, src := range []struct{ kind, cmdlet string }{
		{"mailbox", "Get-Mailbox"}, {"group", "Get-DistributionGroup"}, {"contact", "Get-MailContact"},
	} {
		for _, o := range objects(exchange[src.cmdlet]) {
			d.add(src.kind, o)
		}
	}
	return d
}

func (d *directory) add(kind string, o map[string]any) {
	r := &recipient{kind: kind, obj: o, name: str(o["DisplayName"])}
	r.id = firstOf(o, "ExternalDirectoryObjectId", "Guid", "ExchangeObjectId")
	r.mail = strings.TrimSpace(str(o["PrimarySmtpAddress"]))
	if r.mail == "" && kind == "contact" {
		r.mail = stripSMTP(str(o["ExternalEmailAddress"]))
	}
	r.primary = normAddr(r.mail)
	if r.id == "" {
		r.id = stableID(kind + ":" + r.primary)
	}
	d.all = append(d.all, r)
	put := func(m map[string]*recipient, key string) {
		if key = strings.ToLower(strings.TrimSpace(key)); key != "" {
			if _, taken := m[key]; !taken {
				m[key] = r
			}
		}
	}
	put(d.byAddress, r.primary)
	for _, f := range []string{"UserPrincipalName", "WindowsEmailAddress", "ExternalEmailAddress"} {
		put(d.byAddress, normAddr(str(o[f])))
	}
	for _, p := range strs(o["EmailAddresses"]) {
		prefix, rest, ok := strings.Cut(p, ":")
		switch {
		case ok && strings.EqualFold(prefix, "smtp"):
			put(d.byAddress, rest)
		case ok && strings.EqualFold(prefix, "x500"):
			put(d.byDN, rest)
		}
	}
	for _, f := range []string{"ExternalDirectoryObjectId", "Guid", "ExchangeObjectId", "Identity", "Id", "DistinguishedName"} {
		put(d.byID, str(o[f]))
	}
	put(d.byDN, str(o["LegacyExchangeDN"]))
	for _, f := range []string{"DisplayName", "Name", "Alias"} {
		put(d.byName, str(o[f]))
	}
}

func firstOf(o map[string]any, fields ...string) string {
	for _, f := range fields {
		if s := strings.TrimSpace(str(o[f])); s != "" {
			return s
		}
	}
	return ""
}

// user finds a mailbox by object id, user principal name or any SMTP
// address, the forms /users/{id} accepts.
func (d *directory) user(id string) *recipient {
	key := strings.ToLower(strings.TrimSpace(id))
	for _, r := range []*recipient{d.byID[key], d.byAddress[normAddr(key)]} {
		if r != nil && r.kind == "mailbox" {
			return r
		}
	}
	return nil
}

// resolve finds the recipient an Exchange reference names (see
// recipientFromRef for the written forms).
func (d *directory) resolve(ref string) *recipient {
	key := strings.ToLower(strings.TrimSpace(ref))
	if key == "" {
		return nil
	}
	if strings.HasPrefix(key, "/o=") {
		return d.byDN[key]
	}
	if r := d.byAddress[normAddr(key)]; r != nil {
		return r
	}
	if r := d.byID[key]; r != nil {
		return r
	}
	return d.byName[key]
}

// stripSMTP removes an "SMTP:" prefix, keeping the address's case.
func stripSMTP(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 5 && strings.EqualFold(s[:5], "smtp:") {
		return s[5:]
	}
	return s
}
