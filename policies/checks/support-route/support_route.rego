# METADATA
# title: Support address delivers to the Atera ticketing contact
# description: >-
#   Customers write to the support address, not to Atera's ticketing address. Unless
#   exactly one recipient holds the support address and hands its mail to the ticketing
#   contact (a distribution group containing it, a mailbox forwarding to it, or an
#   enforced transport rule redirecting every message to it), no ticket is created: the
#   mail sits in a mailbox nobody watches, goes to the wrong place, or bounces. A rule
#   that has expired, is not active yet, or acts only on some messages (a subject word,
#   internal senders only, an exception) silently drops the customers it does not match.
# custom:
#   id: support-route
#   severity: error
#   source: >-
#     SPEC §1.2 and §2 (group, mailbox, fallback); Get-DistributionGroup,
#     Get-DistributionGroupMember, Get-Mailbox.ForwardingAddress/ForwardingSmtpAddress,
#     Get-MailContact, Get-TransportRule.SentTo/RedirectMessageTo/State/Mode/ActivationDate/
#     ExpiryDate and its other conditions and exceptions (FromScope, ExceptIf*, ...)
#   remediation: |-
#     Pick ONE method (the ticketing contact must exist first: see ticketing-contact).
#     Method 1, distribution group (recommended by Atera):
#       1. Exchange admin centre > Recipients > Groups > Distribution list: open the group whose address is
#          the support address (or Add a group > Distribution, email address = <support address>).
#       2. Members > View all and manage members > Add members: add the ticketing contact.
#       3. PowerShell: Add-DistributionGroupMember -Identity <support address> -Member "<contact name>"
#     Method 2, mailbox forwarding:
#       1. Exchange admin centre > Recipients > Mailboxes > the mailbox whose address is the support address >
#          Mail flow settings > Email forwarding > Edit: Forward all emails sent to this mailbox, forwarding
#          address = the ticketing contact; tick "Keep a copy of forwarded email in this mailbox".
#       2. PowerShell: Set-Mailbox -Identity <support address> -ForwardingAddress "<contact name>" -DeliverToMailboxAndForward $true
#     Fallback, transport rule (when external forwarding is refused with 550 5.7.520):
#       1. Exchange admin centre > Mail flow > Rules: open or add a rule "Apply this rule if The recipient is
#          <support address>", "Do the following: Redirect the message to" the ticketing contact;
#          set it Enabled and choose Enforce (not Test / Audit). Give it no other condition and no
#          exception, and clear "Activate this rule on" / "Deactivate this rule on" (or set dates that
#          include today); "The sender is located Inside the organization" excludes every customer.
#       2. PowerShell: New-TransportRule -Name "Support to Atera" -SentTo <support address> -RedirectMessageTo "<contact name>" -Mode Enforce
#          or, for an existing rule: Enable-TransportRule -Identity "<rule name>";
#          Set-TransportRule -Identity "<rule name>" -Mode Enforce -ActivationDate $null -ExpiryDate $null -FromScope $null
#          (and $null for each other condition or exception the finding names, e.g. -SubjectContainsWords $null)
#     The ticketing contact must accept mail from outside the organisation: Exchange admin centre >
#     Recipients > Contacts > the contact > Mail flow settings > Message delivery restrictions: Accept messages
#     from All senders, untick "Require that all senders are authenticated".
#       PowerShell: Set-MailContact -Identity "<contact name>" -RequireSenderAuthenticationEnabled $false -AcceptMessagesOnlyFrom $null -AcceptMessagesOnlyFromDLMembers $null
#     Only one recipient may hold the support address: remove it from the others
#     (Set-Mailbox / Set-DistributionGroup -EmailAddresses @{remove="smtp:<support address>"}).
package ticketguard.checks.support_route

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_recipient_cmdlets := ["Get-Mailbox", "Get-DistributionGroup", "Get-MailContact"]

_rules_cmdlet := "Get-TransportRule"

# One resource whatever the outcome, so a waiver keeps matching when the
# verdict changes from one run to the next.
_resource := sprintf("recipient:%s", [snap.support_address])

_method_names := {
	"group": "method 1 (distribution group)",
	"mailbox": "method 2 (mailbox forwarding)",
	"transport_rule": "fallback (transport rule)",
}

# ---------------------------------------------------------------------------
# Indeterminate: what is needed before anything can be said.

_undeclared contains "atera.ticketing_address" if not snap.ticketing_address

_undeclared contains "atera.support_address" if not snap.support_address

_undeclared_text := sprintf("%s is not declared", [concat("", _undeclared)]) if {
	count(_undeclared) == 1
} else := sprintf("%s are not declared", [concat(" and ", sort(_undeclared))])

findings contains f if {
	count(_undeclared) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("%s: declare the Atera addresses (Atera: Admin > Email settings) in the snapshot / config", [_undeclared_text]),
	}
}

# Without every recipient list the support address may belong to an object
# that was not read: neither "nobody has it" nor "only this one has it" holds.
_missing_recipients := snap.unavailable(_recipient_cmdlets)

findings contains f if {
	count(_missing_recipients) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("%s: the recipients holding the support address cannot be determined", [snap.missing_message(_missing_recipients)]),
	}
}

_ready if {
	snap.atera_declared
	count(_missing_recipients) == 0
}

# ---------------------------------------------------------------------------
# Who holds the support address.

findings contains f if {
	_ready
	count(route.support_recipients) == 0
	f := {
		"status": "fail",
		"message": sprintf("no mailbox, distribution group or mail contact has the support address %s (as primary or proxy address), so nothing can deliver its mail to the ticketing address %s%s", [
			snap.support_address,
			snap.ticketing_address,
			_orphan_rule_note,
		]),
		"resource": _resource,
	}
}

# A rule on an address nobody holds still leaves the address without a
# recipient: Exchange Online rejects mail for unknown addresses of its
# authoritative domains before transport rules run.
_orphan_rule_note := sprintf(" (%s, but the address must still belong to a recipient: Exchange Online rejects mail to unknown addresses of its authoritative domains before rules run)", [
	concat("; ", sort({r.detail | some r in route.routes; r.method == "transport_rule"})),
]) if {
	some r in route.routes
	r.method == "transport_rule"
} else := ""

findings contains f if {
	_ready
	count(route.support_recipients) > 1
	f := {
		"status": "fail",
		"message": sprintf("more than one recipient claims the support address %s: %s; exactly one must hold it, the one that delivers to the ticketing contact", [
			snap.support_address,
			concat(", ", sort({identity.label(k) | some k in route.support_recipients})),
		]),
		"resource": _resource,
	}
}

_key := k if {
	_ready
	count(route.support_recipients) == 1
	some k in route.support_recipients
}

_rec := identity.recipients[_key]

# ---------------------------------------------------------------------------
# Routes from it to the ticketing contact.

# Transport-rule routes carry the recipient their SentTo names, so one filter
# serves all three methods.
_routes contains r if {
	some r in route.routes
	r.recipient == _key
}

findings contains f if {
	some r in _routes
	f := {
		"status": "pass",
		"message": sprintf("%s: %s", [_method_names[r.method], r.detail]),
		"resource": _resource,
	}
}

# The contact the route ends at must accept the customer's mail. Exchange
# checks a recipient's delivery restrictions against the message's sender,
# also when a group expands to it or mail is forwarded or redirected to it;
# for support mail that sender is a customer outside the organisation, who
# is neither authenticated nor on an accept list.
_route_contacts contains k if {
	some r in _routes
	r.method == "group"
	some k in identity.members(_key)
	k in route.ticketing_contacts
}

_route_contacts contains k if {
	some r in _routes
	r.method == "mailbox"
	not util.is_blank(_forwarding_address)
	some k in identity.resolve_best(_forwarding_address)
	k in route.ticketing_contacts
}

# Forwarding or a rule to the ticketing address reaches the contact holding
# that address; a rule naming the contact by name, the contact itself.
_route_contacts contains k if {
	some r in _routes
	r.method == "transport_rule"
	some k in route.ticketing_contacts
}

_route_contacts contains k if {
	some r in _routes
	r.method == "mailbox"
	util.is_blank(_forwarding_address)
	some k in route.ticketing_contacts
}

_restriction_fields := ["AcceptMessagesOnlyFrom", "AcceptMessagesOnlyFromDLMembers", "AcceptMessagesOnlyFromSendersOrMembers"]

_restrictions(o) := array.concat(
	[sprintf("RequireSenderAuthenticationEnabled = %v", [o.RequireSenderAuthenticationEnabled]) | util.is_true(object.get(o, "RequireSenderAuthenticationEnabled", null))],
	[sprintf("%s = %s", [f, json.marshal(util.strings(o[f]))]) | some f in _restriction_fields; count(util.strings(object.get(o, f, null))) > 0],
)

findings contains f if {
	some k in _route_contacts
	reasons := _restrictions(identity.recipients[k].object)
	count(reasons) > 0
	f := {
		"status": "fail",
		"message": sprintf("support mail reaches %s, but it has %s: Exchange checks a recipient's delivery restrictions against the sender, also through a group or a forward, and the sender of support mail is a customer outside the organisation, so it is rejected and no ticket is created", [
			identity.label(k),
			concat(" and ", reasons),
		]),
		"resource": _resource,
	}
}

# ---------------------------------------------------------------------------
# No route: say why, unless a missing source could still hold one.

_no_route if {
	_key
	count(_routes) == 0
}

# Sources that, were they present, could still show a route.
_unknown contains sprintf("%s, so a transport-rule fallback cannot be ruled out", [snap.missing_message([_rules_cmdlet])]) if {
	_no_route
	not snap.collected(_rules_cmdlet)
}

_unknown contains sprintf("%s, so whether the group contains the ticketing contact cannot be told", [route.members_missing_message(_rec.primary)]) if {
	_no_route
	_rec.kind == "group"
	not identity.member_rows(_key)
}

# A rule that would redirect the support recipient's mail under conditions
# (a subject word, a sender group, a date that cannot be read): some support
# mail may reach Atera, some not, and the configuration cannot tell which.
_unknown contains sprintf("transport rule %s sends its mail to the ticketing contact only under conditions this check cannot evaluate: %s", [util.quote(c.name), concat("; ", c.conditions)]) if {
	_no_route
	some c in _conditional_rules
	not c.excludes_external
}

# A reference naming several objects equally well, one of them the contact.
_unknown contains sprintf("%s, so whether its mail reaches the ticketing contact cannot be told", [r.detail]) if {
	_no_route
	some r in route.ambiguous_routes
	r.recipient == _key
}

# A ForwardingAddress in a form identity cannot read may name the contact
# (one it can read and that matches nothing names no contact: every contact
# is in Get-MailContact, so that is a failure, reported below).
_unknown contains sprintf("ForwardingAddress %s matches no recipient in the snapshot and is written in a form this check cannot read, so whether it names the ticketing contact cannot be told", [util.quote(_forwarding_address)]) if {
	_no_route
	_rec.kind == "mailbox"
	not util.is_blank(_forwarding_address)
	count(identity.resolve_best(_forwarding_address)) == 0
	not identity.known_form(_forwarding_address)
}

findings contains f if {
	count(_unknown) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("the support address belongs to %s and no route to the ticketing contact was found, but %s", [
			identity.label(_key),
			concat("; ", sort(_unknown)),
		]),
		"resource": _resource,
	}
}

_decidable if {
	_no_route
	count(_unknown) == 0
}

# A rule that would do the job but is off, only audits, is outside its
# activation window or only acts on internal senders is the classic fallback
# mistake: report it instead of the recipient, which was never meant to
# deliver by itself.
findings contains f if {
	_decidable
	some c in _failed_rules
	f := {
		"status": "fail",
		"message": sprintf("transport rule %s would redirect mail for %s to the ticketing contact, but %s; meanwhile %s", [
			util.quote(c.name),
			snap.support_address,
			_rule_failure(c),
			_recipient_problem,
		]),
		"resource": _resource,
	}
}

findings contains f if {
	_decidable
	count(_failed_rules) == 0
	f := {
		"status": "fail",
		"message": _recipient_problem,
		"resource": _resource,
	}
}

# ---------------------------------------------------------------------------
# What the recipient does instead of reaching the contact.

_no_contact_note := sprintf(" (no mail contact has the ticketing address %s: see ticketing-contact)", [snap.ticketing_address]) if {
	count(route.ticketing_contacts) == 0
} else := ""

_recipient_problem := sprintf("%s does not contain the ticketing contact%s; its members: %s%s", [
	identity.label(_key),
	_no_contact_note,
	_members_text,
	_nested_note,
]) if {
	_rec.kind == "group"
} else := sprintf("%s forwards nowhere: ForwardingAddress and ForwardingSmtpAddress are empty%s", [
	identity.label(_key),
	_no_contact_note,
]) if {
	_rec.kind == "mailbox"
	util.is_blank(_forwarding_address)
	util.is_blank(_forwarding_smtp)
} else := sprintf("%s forwards to ForwardingAddress = %s (%s), not to the ticketing contact%s%s", [
	identity.label(_key),
	util.quote(_forwarding_address),
	_targets_text(_forwarding_address),
	_no_contact_note,
	_ignored_smtp_note,
]) if {
	_rec.kind == "mailbox"
	not util.is_blank(_forwarding_address)
} else := sprintf("%s forwards to ForwardingSmtpAddress = %s, not to the ticketing address %s%s", [
	identity.label(_key),
	util.quote(_forwarding_smtp),
	snap.ticketing_address,
	_no_contact_note,
]) if {
	_rec.kind == "mailbox"
} else := sprintf("the support address belongs to %s; mail to a contact goes to its external address %s, not through a group or mailbox to the ticketing contact", [
	identity.label(_key),
	util.quote(object.get(_rec.object, "ExternalEmailAddress", null)),
])

_forwarding_address := object.get(_rec.object, "ForwardingAddress", null)

_forwarding_smtp := object.get(_rec.object, "ForwardingSmtpAddress", null)

_ignored_smtp_note := sprintf("; ForwardingSmtpAddress = %s is ignored while ForwardingAddress is set", [util.quote(_forwarding_smtp)]) if {
	not util.is_blank(_forwarding_smtp)
} else := ""

# What a reference names (identity.resolve_best), and a ticketing contact
# that answers to it only by a lower-ranked name, such as its display name:
# the technician sees why the forwarding misses it.
_targets_text(ref) := concat("", [concat(", ", sort({identity.label(k) | some k in identity.resolve_best(ref)})), _lookalike_note(ref)]) if {
	count(identity.resolve_best(ref)) > 0
} else := "which matches no recipient in the snapshot: no mail contact has that name or address"

_lookalike_note(ref) := sprintf("; %s also answers to %s, but only by a lower-ranked name such as its display name, and Exchange forwards to the object the reference names by its Name", [
	concat(", ", sort(others)),
	util.quote(ref),
]) if {
	others := {identity.label(k) |
		some k in identity.resolve(ref)
		not k in identity.resolve_best(ref)
		k in route.ticketing_contacts
	}
	count(others) > 0
} else := ""

_members := identity.member_rows(_key)

# Method 1 wants the contact as a direct member; nested groups are not
# followed, and the message says so rather than leave the technician guessing.
_nested_note := " (members of nested groups are not followed: add the ticketing contact as a direct member)" if {
	some m in _members
	some k in identity.resolve_entry(m)
	identity.kind_of(k) == "group"
} else := ""

_members_text := concat(", ", sort({_member_text(m) | some m in _members})) if {
	count(_members) > 0
} else := "none"

# A member row names its object several ways; show the recipient it resolves
# to when that is unambiguous, else what the row itself says.
_member_text(m) := identity.label(k) if {
	ks := identity.resolve_entry(m)
	count(ks) == 1
	some k in ks
} else := sprintf("%q <%s>", [_row_name(m), _row_address(m)]) if {
	is_object(m)
} else := util.quote(m)

_row_name(m) := object.get(m, "DisplayName", object.get(m, "Name", object.get(m, "Identity", "(no name)")))

_row_address(m) := util.norm_addr(m.PrimarySmtpAddress) if {
	is_string(m.PrimarySmtpAddress)
} else := util.norm_addr(m.ExternalEmailAddress) if {
	is_string(m.ExternalEmailAddress)
} else := "no address"

# ---------------------------------------------------------------------------
# Transport rules that would route the support address but do not, or only
# sometimes. route.transport_rule_candidates has every rule whose SentTo
# names the support recipient and whose action reaches the contact; the
# routes among them act always, these do not.

_candidates contains c if {
	some c in route.transport_rule_candidates
	c.recipient == _key
}

_inactive_rules := {c | some c in _candidates; count(c.inactive) > 0}

_conditional_rules := {c |
	some c in _candidates
	count(c.inactive) == 0
	count(c.conditions) > 0
}

# Rules that never act on a customer's mail: inactive, or internal senders
# only (a sure failure even with other conditions, which are ANDed).
_failed_rules := _inactive_rules | {c | some c in _conditional_rules; c.excludes_external}

_rule_failure(c) := sprintf("it has %s, so it redirects nothing", [concat(" and ", c.inactive)]) if {
	count(c.inactive) > 0
} else := sprintf("it has %s, so it never redirects a customer's mail", [concat("; ", c.conditions)])
