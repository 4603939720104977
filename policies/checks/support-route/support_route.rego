# METADATA
# title: Support address delivers to the Atera ticketing contact
# description: >-
#   Customers write to the support address, not to Atera's ticketing address. Unless
#   exactly one recipient holds the support address and hands its mail to the ticketing
#   contact (a distribution group containing it, a mailbox forwarding to it, or an
#   enforced transport rule redirecting to it), no ticket is created: the mail sits in a
#   mailbox nobody watches, goes to the wrong place, or bounces.
# custom:
#   id: support-route
#   severity: error
#   source: >-
#     SPEC §1.2 and §2 (group, mailbox, fallback); Get-DistributionGroup,
#     Get-DistributionGroupMember, Get-Mailbox.ForwardingAddress/ForwardingSmtpAddress,
#     Get-MailContact, Get-TransportRule.SentTo/RedirectMessageTo/State/Mode
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
#          set it Enabled and choose Enforce (not Test / Audit).
#       2. PowerShell: New-TransportRule -Name "Support to Atera" -SentTo <support address> -RedirectMessageTo "<contact name>" -Mode Enforce
#          or, for an existing rule: Enable-TransportRule -Identity "<rule name>"; Set-TransportRule -Identity "<rule name>" -Mode Enforce
#     Only one recipient may hold the support address: remove it from the others
#     (Set-Mailbox / Set-DistributionGroup -EmailAddresses @{remove="smtp:<support address>"}).
package ticketguard.checks.support_route

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_recipient_cmdlets := ["Get-Mailbox", "Get-DistributionGroup", "Get-MailContact"]

_members_cmdlet := "Get-DistributionGroupMember"

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

_unknown contains sprintf("%s, so whether the group contains the ticketing contact cannot be told", [snap.recipient_missing_message(_members_cmdlet, _rec.primary)]) if {
	_no_route
	_rec.kind == "group"
	not _members_known
}

_members_known if {
	snap.collected(_members_cmdlet)
	identity.member_rows(_key)
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

# A rule that would do the job but is off or only audits is the classic
# fallback mistake: report it instead of the recipient, which was never
# meant to deliver by itself.
findings contains f if {
	_decidable
	some rule in _inactive_rules
	f := {
		"status": "fail",
		"message": sprintf("transport rule %q would redirect mail for %s to the ticketing contact, but it has %s, so it redirects nothing; meanwhile %s", [
			object.get(rule, "Name", object.get(rule, "Identity", "(no name)")),
			snap.support_address,
			concat(" and ", _inactive_reasons(rule)),
			_recipient_problem,
		]),
		"resource": _resource,
	}
}

findings contains f if {
	_decidable
	count(_inactive_rules) == 0
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

_targets_text(ref) := concat(", ", sort({identity.label(k) | some k in identity.resolve(ref)})) if {
	count(identity.resolve(ref)) > 0
} else := "which matches no recipient in the snapshot"

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
# Transport rules that would route the support address but do not run.
# route.routes keeps only enabled, enforced rules; this finds the others.

_rule_actions := ["RedirectMessageTo", "BlindCopyTo", "AddToRecipients", "CopyTo"]

_inactive_rules contains rule if {
	some rule in snap.items(_rules_cmdlet)
	is_object(rule)
	_sent_to_support(rule)
	_reaches_ticketing(rule)
	count(_inactive_reasons(rule)) > 0
}

_sent_to_support(rule) if {
	some ref in util.strings(object.get(rule, "SentTo", null))
	_key in identity.resolve(ref)
}

_sent_to_support(rule) if {
	some ref in util.strings(object.get(rule, "SentTo", null))
	util.parse_ref(ref) == snap.support_address
}

_reaches_ticketing(rule) if {
	some action in _rule_actions
	some ref in util.strings(object.get(rule, action, null))
	some k in identity.resolve(ref)
	k in route.ticketing_contacts
}

_reaches_ticketing(rule) if {
	some action in _rule_actions
	some ref in util.strings(object.get(rule, action, null))
	util.parse_ref(ref) == snap.ticketing_address
}

_inactive_reasons(rule) := [reason |
	some reason in [_state_reason(rule), _mode_reason(rule)]
	reason != ""
]

_state_reason(rule) := "" if {
	util.eq_fold(object.get(rule, "State", ""), "Enabled")
} else := sprintf("State = %s (a disabled rule does nothing)", [util.quote(object.get(rule, "State", null))])

# An absent Mode is taken as Enforce, as route.enforced_transport_rules does.
_mode_reason(rule) := "" if {
	util.eq_fold(object.get(rule, "Mode", ""), "Enforce")
} else := "" if {
	object.get(rule, "Mode", null) == null
} else := sprintf("Mode = %s (Audit and AuditAndNotify only log the match; the message is delivered as if the rule did not exist)", [util.quote(object.get(rule, "Mode", null))])
