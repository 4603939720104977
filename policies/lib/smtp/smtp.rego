# METADATA
# description: |-
#   Helpers shared by the custom SMTP checks (send-as, smtp-settings,
#   smtp-basic-auth, atera-ip-allowlist): what Atera was told to send through
#   (the user-declared atera.smtp object), who the SMTP user is in the tenant,
#   and whether that SMTP is Office 365 at all.
package ticketguard.lib.smtp

import data.ticketguard.lib.identity
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# facts is policies/data/facts.json, mounted by the engine at data.ticketguard.facts.
facts := data.ticketguard.facts

# custom is true when Atera sends ticket mail through the organisation's own
# SMTP server (atera.smtp is an object) instead of noreply@atera.com.
custom if snap.custom_smtp

# not_custom_finding is the one finding every custom SMTP check returns when
# there is no custom SMTP to look at: indeterminate when the Atera section (or
# its smtp key) was not declared, since nothing can be said about an unknown
# setting; not_applicable when atera.smtp is null, because Atera then sends from
# its own address and none of the tenant's SMTP settings matter.
default _atera := null

_atera := input.snapshot.atera if is_object(input.snapshot.atera)

not_custom_finding := {
	"status": "indeterminate",
	"message": "the atera section is missing from the snapshot: declare atera.smtp in the snapshot / config (null when Atera sends from its default address noreply@atera.com)",
	"resource": "atera:smtp",
} if {
	_atera == null
} else := {
	"status": "indeterminate",
	"message": "atera.smtp is not declared: set it to the custom SMTP settings of Atera Admin > Email settings, or to null when Atera sends from its default address noreply@atera.com",
	"resource": "atera:smtp",
} if {
	not "smtp" in object.keys(_atera)
} else := {
	"status": "not_applicable",
	"message": "atera.smtp is null: Atera sends from its default address noreply@atera.com, no custom SMTP to check",
	"resource": "atera:smtp",
} if {
	_atera.smtp == null
} else := {
	"status": "indeterminate",
	"message": sprintf("atera.smtp must be an object or null, got %v", [_atera.smtp]),
	"resource": "atera:smtp",
} if {
	not custom
}

# server is the declared SMTP host, lower-cased, without a trailing dot; undefined
# when it is not declared.
server := h if {
	s := snap.smtp.server
	is_string(s)
	h := trim_suffix(lower(trim_space(s)), ".")
	h != ""
}

# port is the declared port as a number ("587" is accepted); undefined when absent
# or not a number.
port := p if {
	is_number(snap.smtp.port)
	p := snap.smtp.port
} else := p if {
	is_string(snap.smtp.port)
	regex.match(`^\s*[0-9]+\s*$`, snap.smtp.port)
	p := to_number(trim_space(snap.smtp.port))
}

# username is the declared SMTP user name as written; user is its normalised
# form (lower-case, no smtp: prefix). Both undefined when not declared.
username := u if {
	u := snap.smtp.username
	is_string(u)
	trim_space(u) != ""
}

user := util.norm_addr(username)

# user_keys are the identity.recipients keys the SMTP user name resolves to.
default user_keys := set()

# identity.resolve matches the sign-in name (UserPrincipalName) too, which is
# what SMTP AUTH logs in with and need not be a proxy address.
user_keys := identity.resolve(username)

# user_mailboxes are the mailboxes among user_keys: SMTP AUTH needs a mailbox.
user_mailboxes := {k | some k in user_keys; identity.recipients[k].kind == "mailbox"}

# user_in_tenant: the SMTP user is a mailbox or group of this tenant. A mail
# contact does not count: its address is external by definition.
user_in_tenant if {
	some k in user_keys
	identity.recipients[k].kind != "contact"
}

# Microsoft's SMTP host names. Kept here rather than in facts.json: these two
# domains are Microsoft's mail front doors, not a list that moves.
_office365_domains := ["office365.com", "outlook.com"]

# server_is_office365: the declared host is an Office 365 host
# (smtp.office365.com, <domain>.mail.protection.outlook.com, ...).
server_is_office365 if {
	some d in _office365_domains
	_host_in(server, d)
}

_host_in(h, d) if h == d

_host_in(h, d) if endswith(h, concat("", [".", d]))

# on_office365 (DESIGN "Check semantics decided"): the server is an Office 365
# host, or the SMTP user is a recipient of this tenant. The second reading is
# only trusted from a collected (not errored) Get-Mailbox, which keeps it
# exclusive with office365_undecided. Get-Mailbox may be filtered to the
# mailboxes that forward, so a Get-CASMailbox row (collected for the SMTP
# sign-in mailbox) with the user's address counts too.
on_office365 if server_is_office365

on_office365 if {
	snap.collected("Get-Mailbox")
	user_in_tenant
}

on_office365 if _user_in_cas

_user_in_cas if {
	some r in snap.items("Get-CASMailbox")
	is_object(r)
	row_has_address(r, user)
}

# row_has_address(r, addr): a cmdlet row (Get-CASMailbox, ...) carries addr as
# its primary address, sign-in name or an smtp: proxy address.
row_has_address(r, addr) if {
	some field in ["PrimarySmtpAddress", "UserPrincipalName", "WindowsEmailAddress"]
	util.norm_addr(r[field]) == addr
}

row_has_address(r, addr) if {
	some p in util.strings(object.get(r, "EmailAddresses", []))
	startswith(lower(p), "smtp:")
	util.norm_addr(p) == addr
}

# office365_undecided: the host is not Office 365's and Get-Mailbox is missing,
# so whether the SMTP user is a mailbox of this tenant cannot be told.
office365_undecided if {
	not server_is_office365
	not snap.collected("Get-Mailbox")
	not _user_in_cas
}

# not_office365_message says why an Office 365-only check does not apply.
not_office365_message := sprintf(
	"custom SMTP server %s is not Office 365; not checked (SMTP user %s is not a mailbox of this tenant)",
	[server_text, username_text],
)

# server_text, port_text, username_text are the declared values for messages,
# or "(not declared)".
default server_text := "(not declared)"

server_text := server

default port_text := "(not declared)"

port_text := format_int(port, 10)

default username_text := "(not declared)"

username_text := username

# support_keys are the recipients holding the support address.
default support_keys := set()

support_keys := identity.by_address(snap.support_address)

# user_is_support: the SMTP user is the support recipient itself, so it sends
# as itself and needs no Send As permission.
user_is_support if {
	some k in user_keys
	k in support_keys
}

user_is_support if user == snap.support_address

# label is how messages name the SMTP configuration:
# "smtp.office365.com:587 as helpdesk@acme.com".
label := sprintf("%s:%s as %s", [server_text, port_text, username_text])

# now_ns is the evaluation time from the Rego input (checks never read the clock).
now_ns := input.now_ns if {
	is_number(input.now_ns)
} else := time.parse_rfc3339_ns(input.now)
