# METADATA
# title: Send As for the Atera SMTP user on the support address
# description: |-
#   When Atera sends ticket replies through Office 365 with an SMTP user other
#   than the primary support address, that user needs Send As on the support
#   recipient. Without it every ticket reply Atera sends is rejected
#   (554 5.2.252 SendAsDenied) and customers never see the technician's answer.
# custom:
#   id: send-as
#   severity: error
#   source: "SPEC §1.5, §2 Send As; Get-RecipientPermission.Trustee, AccessRights, AccessControlType"
#   remediation: |-
#     1. Exchange admin centre > Recipients > Mailboxes (Groups for a distribution group) >
#        select <support address> > Delegation > Send As > Edit > Add members >
#        add <smtp user> > Save.
#     2. Or in Exchange Online PowerShell:
#        Add-RecipientPermission -Identity <support address> -Trustee <smtp user> -AccessRights SendAs -Confirm:$false
#     3. If a Deny entry exists for <smtp user>, remove it first (Deny wins over Allow):
#        Remove-RecipientPermission -Identity <support address> -Trustee <smtp user> -AccessRights SendAs -Deny -Confirm:$false
#     4. Send As can take up to an hour to apply. Then use Atera Admin > Email settings >
#        Test Email Settings.
#     Alternatively set the SMTP user name in Atera to the support mailbox itself.
package ticketguard.checks.send_as

import data.ticketguard.lib.identity
import data.ticketguard.lib.scope
import data.ticketguard.lib.smtp
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_permissions := "Get-RecipientPermission"

findings contains smtp.not_custom_finding

findings contains f if {
	smtp.custom
	not snap.support_address
	f := {
		"status": "indeterminate",
		"message": "atera.support_address is not declared: declare atera.support_address in the snapshot / config (the Primary Customer Support Address of Atera Admin > Email settings)",
		"resource": "atera:smtp",
	}
}

findings contains f if {
	smtp.custom
	not smtp.username
	f := {
		"status": "indeterminate",
		"message": "atera.smtp.username is not declared: declare the SMTP user name of Atera Admin > Email settings",
		"resource": "atera:smtp",
	}
}

# The SMTP user and the support address are resolved against the tenant's
# mailboxes: without Get-Mailbox neither "is it the support mailbox itself" nor
# "which Trustee is it" can be answered.
findings contains f if {
	_declared
	not snap.collected("Get-Mailbox")
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot resolve SMTP user %s in the tenant: %s", [smtp.username, snap.missing_message(["Get-Mailbox"])]),
		"resource": _resource,
	}
}

findings contains f if {
	_resolvable
	not smtp.on_office365
	f := {
		"status": "not_applicable",
		"message": concat("", [smtp.not_office365_message, "; Send As is an Exchange Online permission"]),
		"resource": _resource,
	}
}

findings contains f if {
	_resolvable
	smtp.on_office365
	smtp.user_is_support
	f := {
		"status": "not_applicable",
		"message": sprintf("SMTP user %s is the support recipient %s itself: it sends as itself and needs no Send As", [smtp.username, _support_label]),
		"resource": _resource,
	}
}

findings contains f if {
	_needs_send_as
	not snap.collected(_permissions)
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot read Send As on %s: %s", [_support_label, snap.missing_message([_permissions])]),
		"resource": _resource,
	}
}

# No row can be tied to the support recipient and the support address is not a
# mailbox or group we know: rows with an Identity might belong to it under a
# name we cannot resolve, so no verdict.
findings contains f if {
	_evaluable
	count(_support_rows) == 0
	count(smtp.support_keys) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf(
			"support address %s is not a mailbox or distribution group in Get-Mailbox / Get-DistributionGroup, and no %s row can be tied to it (rows: %s)",
			[snap.support_address, _permissions, _describe(snap.items(_permissions))],
		),
		"resource": _resource,
	}
}

findings contains f if {
	_evaluable
	_decidable
	count(_deny_rows) > 0
	f := {
		"status": "fail",
		"message": sprintf(
			"%s has a Deny row for SMTP user %s (or a group it is a member of) on %s, and Deny wins over Allow: Atera's mail as %s is rejected (rows: %s)",
			[_permissions, smtp.username, _support_label, snap.support_address, _describe(_support_rows)],
		),
		"resource": _resource,
	}
}

findings contains f if {
	_evaluable
	_decidable
	count(_deny_rows) == 0
	count(_allow_rows) == 0
	f := {
		"status": "fail",
		"message": sprintf(
			"SMTP user %s has no Send As on %s: Atera's mail as %s is rejected (%s rows: %s)",
			[smtp.username, _support_label, snap.support_address, _permissions, _rows_summary],
		),
		"resource": _resource,
	}
}

# An Allow row is there, but a Deny row may concern the SMTP user under a name
# the snapshot cannot tie to anyone (DOMAIN\alias of a mailbox that was not
# collected, a SID, a group whose membership is unknown): Deny wins over
# Allow, so the Allow row proves nothing.
findings contains f if {
	_evaluable
	_decidable
	count(_deny_rows) == 0
	count(_allow_rows) > 0
	count(_uncertain_deny_rows) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf(
			"SMTP user %s has an Allow Send As row on %s, but %s: it may deny the SMTP user, and Deny wins over Allow (rows: %s)",
			[smtp.username, _support_label, concat("; ", sort([_uncertain_text(r) | some r in _uncertain_deny_rows])), _describe(_support_rows)],
		),
		"resource": _resource,
	}
}

findings contains f if {
	_evaluable
	_decidable
	count(_deny_rows) == 0
	count(_allow_rows) > 0
	count(_uncertain_deny_rows) == 0
	f := {
		"status": "pass",
		"message": sprintf(
			"SMTP user %s has Send As (Allow) on %s (rows: %s)",
			[smtp.username, _support_label, _describe(_support_rows)],
		),
		"resource": _resource,
	}
}

# --- gates, in order -------------------------------------------------------

_declared if {
	smtp.custom
	snap.support_address
	smtp.username
}

_resolvable if {
	_declared
	snap.collected("Get-Mailbox")
}

_needs_send_as if {
	_resolvable
	smtp.on_office365
	not smtp.user_is_support
}

_evaluable if {
	_needs_send_as
	snap.collected(_permissions)
}

_decidable if count(_support_rows) > 0

_decidable if count(smtp.support_keys) > 0

# --- rows ------------------------------------------------------------------

# _support_rows are the Get-RecipientPermission rows of the support recipient:
# rows without Identity (the collector asks -Identity <support address> only,
# DESIGN "Check semantics decided"), or whose Identity resolves to it.
_support_rows := [r |
	some r in snap.items(_permissions)
	is_object(r)
	_of_support(r)
]

_of_support(r) if util.is_blank(object.get(r, "Identity", null))

_of_support(r) if {
	some k in identity.resolve(r.Identity)
	k in smtp.support_keys
}

_of_support(r) if util.parse_ref(r.Identity) == snap.support_address

# The self row (Trustee NT AUTHORITY\SELF) is on every mailbox and says nothing
# about the SMTP user.
_is_self(r) if util.parse_ref(r.Trustee) == `nt authority\self`

_is_user(r) if {
	not _is_self(r)
	some k in identity.resolve(r.Trustee)
	k in smtp.user_keys
}

_is_user(r) if {
	not _is_self(r)
	util.parse_ref(r.Trustee) == smtp.user
}

_user_send_as_rows := [r |
	some r in _support_rows
	_is_user(r)
	"sendas" in _rights(object.get(r, "AccessRights", null))
]

_allow_rows := [r | some r in _user_send_as_rows; _access(r) == "Allow"]

# A Deny for a group the SMTP user is a member of (nested groups included)
# denies the user as well.
_deny_rows := array.concat(
	[r | some r in _user_send_as_rows; _access(r) == "Deny"],
	[r |
		some r in _support_rows
		_access(r) == "Deny"
		not _is_user(r)
		"sendas" in _rights(object.get(r, "AccessRights", null))
		_group_trustee_membership(r) == "match"
	],
)

# _uncertain_deny_rows are Deny rows that may take Send As away from the SMTP
# user but cannot be tied to it or ruled out.
_uncertain_deny_rows := [r |
	some r in _support_rows
	_access(r) == "Deny"
	not _is_self(r)
	not r in _deny_rows
	_may_deny_send_as(r)
	_may_concern_user(r)
]

# AccessRights that name other rights only (ReadPermission) leave Send As
# alone; missing or unreadable rights might include it.
_may_deny_send_as(r) if "sendas" in _rights(object.get(r, "AccessRights", null))

_may_deny_send_as(r) if count(_rights(object.get(r, "AccessRights", null))) == 0

_may_concern_user(r) if _is_user(r)

_may_concern_user(r) if _unresolved_trustee(r)

_may_concern_user(r) if _group_trustee_membership(r) == "unknown"

# The Trustee names no recipient of the snapshot: a DOMAIN\alias or SID of
# an object that was not collected, or a value that is not a name at all.
_unresolved_trustee(r) if not is_string(r.Trustee)

_unresolved_trustee(r) if {
	is_string(r.Trustee)
	count(identity.resolve(r.Trustee)) == 0
	util.parse_ref(r.Trustee) != smtp.user
}

# "match" when a group the Trustee names holds the SMTP user, "unknown" when
# that cannot be told (membership not collected), "no" otherwise; undefined
# when the Trustee names no group.
_group_trustee_membership(r) := "match" if {
	_trustee_groups(r)
	some k in smtp.user_keys
	scope.member_of(k, r.Trustee) == "match"
} else := "unknown" if {
	_trustee_groups(r)
	count(smtp.user_keys) == 0
} else := "unknown" if {
	_trustee_groups(r)
	some k in smtp.user_keys
	scope.member_of(k, r.Trustee) == "unknown"
} else := "no" if {
	_trustee_groups(r)
}

_trustee_groups(r) if {
	is_string(r.Trustee)
	count(identity.resolve_kind(r.Trustee, "group")) > 0
}

_uncertain_text(r) := sprintf("a Deny row for %s could not be resolved to a recipient of the snapshot", [_trustee_text(r)]) if {
	_unresolved_trustee(r)
} else := sprintf("a Deny row for group %s, whose members are not all in the snapshot (Get-DistributionGroupMember)", [_trustee_text(r)]) if {
	_group_trustee_membership(r) == "unknown"
} else := sprintf("a Deny row for %s has AccessRights = %s, which may include SendAs", [_trustee_text(r), json.marshal(object.get(r, "AccessRights", null))])

# Quoted as written: %q would double the backslash of DOMAIN\alias.
_trustee_text(r) := concat("", [`"`, r.Trustee, `"`]) if {
	is_string(r.Trustee)
} else := json.marshal(object.get(r, "Trustee", null))

# _rights normalises AccessRights to a set of lower-case names. It arrives as an
# array (["SendAs"]), one comma-joined string ("SendAs, ...") or, through some
# serialisers, the numeric RecipientAccessRight enum. Assumption: that enum is a
# flags enum whose SendAs member is 1 (it is the only right the cmdlet manages),
# so a number with bit 1 set is read as SendAs.
_rights(x) := {p |
	some e in util.as_array(x)
	is_string(e)
	some part in split(e, ",")
	p := lower(trim_space(part))
	p != ""
} | {"sendas" |
	some e in util.as_array(x)
	is_number(e)
	bits.and(e, 1) == 1
}

# _access reads AccessControlType: "Allow"/"Deny" in any case, or the numeric
# System.Security.AccessControl.AccessControlType enum (0 Allow, 1 Deny).
# Anything else is neither, so it can neither grant nor deny.
default _access(_) := "unknown"

_access(r) := "Allow" if util.eq_fold(r.AccessControlType, "allow")

_access(r) := "Allow" if r.AccessControlType == 0

_access(r) := "Deny" if util.eq_fold(r.AccessControlType, "deny")

_access(r) := "Deny" if r.AccessControlType == 1

# --- messages --------------------------------------------------------------

_support_label := concat(", ", sort([identity.label(k) | some k in smtp.support_keys])) if {
	count(smtp.support_keys) > 0
} else := sprintf("support address %s", [snap.support_address])

_resource := sprintf("%s:%s", [identity.recipients[k].kind, snap.support_address]) if {
	count(smtp.support_keys) == 1
	some k in smtp.support_keys
} else := sprintf("recipient:%s", [snap.support_address])

_rows_summary := "none" if {
	count(_support_rows) == 0
} else := "only NT AUTHORITY\\SELF" if {
	every r in _support_rows {
		_is_self(r)
	}
} else := _describe(_support_rows)

_describe(rows) := "none" if {
	count(rows) == 0
} else := concat("; ", sort([_row_text(r) | some r in rows]))

_row_text(r) := sprintf("%s %s for %s%s", [
	_access(r),
	_rights_text(object.get(r, "AccessRights", null)),
	object.get(r, "Trustee", "(no Trustee)"),
	_identity_text(r),
])

# _rights_text shows AccessRights as written (numbers as the enum they stand for).
_rights_text(x) := "(no AccessRights)" if {
	count(_rights(x)) == 0
} else := concat(",", sort({_right_name(e) |
	some v in util.as_array(x)
	some e in _right_parts(v)
}))

_right_parts(v) := [trim_space(p) | some p in split(v, ","); trim_space(p) != ""] if is_string(v)

_right_parts(v) := [v] if is_number(v)

_right_name(e) := e if is_string(e)

_right_name(e) := sprintf("SendAs(%v)", [e]) if {
	is_number(e)
	bits.and(e, 1) == 1
}

_right_name(e) := sprintf("%v", [e]) if {
	is_number(e)
	bits.and(e, 1) != 1
}

_identity_text(r) := "" if {
	util.is_blank(object.get(r, "Identity", null))
} else := sprintf(" on %v", [r.Identity])
