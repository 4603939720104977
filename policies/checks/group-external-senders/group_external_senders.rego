# METADATA
# title: Support distribution group accepts mail from outside the organisation
# description: >-
#   Customers are outside senders. When the support distribution group requires
#   authenticated senders (the default for groups created in the admin centre) or only
#   accepts listed senders, customers' e-mails bounce with a non-delivery report and no
#   ticket is created, while mail sent from inside the organisation still works, so
#   internal tests do not show the problem.
# custom:
#   id: group-external-senders
#   severity: error
#   source: >-
#     SPEC §1.2 method 1 and §2 (group); Get-DistributionGroup.RequireSenderAuthenticationEnabled,
#     AcceptMessagesOnlyFrom, AcceptMessagesOnlyFromDLMembers, AcceptMessagesOnlyFromSendersOrMembers
#   remediation: |-
#     1. Exchange admin centre > Recipients > Groups > Distribution list > the group whose address is the
#        support address > Settings: tick "Allow people outside of my organization to send email to this
#        distribution group". Save.
#     2. Same group > Settings / Delivery management: set "Accept messages from" to everyone (remove every
#        listed sender and group).
#     3. PowerShell: Set-DistributionGroup -Identity <support address> -RequireSenderAuthenticationEnabled $false -AcceptMessagesOnlyFromSendersOrMembers $null
#     4. Send a test message to <support address> from an outside mailbox (for example a personal one) and
#        check that the ticket appears in Atera.
package ticketguard.checks.group_external_senders

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# ---------------------------------------------------------------------------
# Applicability (DESIGN "Check semantics decided"): this check is about the
# method 1 group. The routes found decide; with none, nothing can be said.

_method := "group"

_method_names := {
	"group": "method 1 (distribution group)",
	"mailbox": "method 2 (mailbox forwarding)",
	"transport_rule": "fallback (transport rule)",
}

_methods := {r.method | some r in route.routes}

_undeclared contains "atera.ticketing_address" if not snap.ticketing_address

_undeclared contains "atera.support_address" if not snap.support_address

_undeclared_text := sprintf("%s is not declared", [concat("", _undeclared)]) if {
	count(_undeclared) == 1
} else := sprintf("%s are not declared", [concat(" and ", sort(_undeclared))])

findings contains f if {
	count(_undeclared) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("%s: declare the Atera addresses (Atera: Admin > Email settings) in the snapshot / config; without them the support route cannot be determined", [_undeclared_text]),
	}
}

_missing_note := sprintf("; %s", [route.missing_message]) if {
	count(route.missing_sources) > 0
} else := ""

findings contains f if {
	snap.atera_declared
	count(_methods) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no route from the support address %s to the ticketing contact was determined (see support-route), so it is unknown whether a distribution group is in use%s", [
			snap.support_address,
			_missing_note,
		]),
		"resource": sprintf("recipient:%s", [snap.support_address]),
	}
}

findings contains f if {
	snap.atera_declared
	count(_methods) > 0
	not _method in _methods
	f := {
		"status": "not_applicable",
		"message": sprintf("the support address %s is routed by %s, not by a distribution group; group sender restrictions do not apply", [
			snap.support_address,
			concat(" and ", sort({_method_names[m] | some m in _methods})),
		]),
		"resource": sprintf("recipient:%s", [snap.support_address]),
	}
}

_groups contains r.recipient if {
	snap.atera_declared
	some r in route.routes
	r.method == _method
}

# A route found in a list that failed to load completely is still a route,
# but the row's settings are not trusted: the read may have been cut short.
_cmdlet := "Get-DistributionGroup"

_checkable contains k if {
	some k in _groups
	snap.collected(_cmdlet)
}

findings contains f if {
	some k in _groups
	not snap.collected(_cmdlet)
	f := {
		"status": "indeterminate",
		"message": sprintf("%s: the settings of %s cannot be read reliably", [snap.missing_message([_cmdlet]), identity.label(k)]),
		"resource": _resource(k),
	}
}

# ---------------------------------------------------------------------------
# The group's sender restrictions.

_accept_props := [
	"AcceptMessagesOnlyFrom",
	"AcceptMessagesOnlyFromDLMembers",
	"AcceptMessagesOnlyFromSendersOrMembers",
]

_object(g) := identity.recipients[g].object

_resource(g) := sprintf("group:%s", [identity.recipients[g].primary])

# Each offending setting with its actual value. An absent multi-valued
# property is empty: Exchange leaves it out only when nothing is set.
_offending(g) := [text |
	some text in array.concat(_auth_offence(g), [sprintf("%s = %s", [p, json.marshal(v)]) |
		some p in _accept_props
		v := object.get(_object(g), p, null)
		not util.is_blank(v)
	])
]

_auth_offence(g) := ["RequireSenderAuthenticationEnabled = true"] if {
	util.is_true(object.get(_object(g), "RequireSenderAuthenticationEnabled", null))
} else := []

# The tri-state is not guessed: Exchange always returns a boolean here, so
# anything else means the row was read incompletely.
_auth_known(g) if util.is_true(object.get(_object(g), "RequireSenderAuthenticationEnabled", null))

_auth_known(g) if util.is_false(object.get(_object(g), "RequireSenderAuthenticationEnabled", null))

findings contains f if {
	some g in _checkable
	count(_offending(g)) > 0
	f := {
		"status": "fail",
		"message": sprintf("%s rejects mail from outside the organisation: %s; customers' e-mails bounce and no ticket is created", [
			identity.label(g),
			concat("; ", _offending(g)),
		]),
		"resource": _resource(g),
	}
}

findings contains f if {
	some g in _checkable
	count(_offending(g)) == 0
	not _auth_known(g)
	f := {
		"status": "indeterminate",
		"message": sprintf("%s has RequireSenderAuthenticationEnabled = %s in the Get-DistributionGroup output (expected true or false): whether outside senders are accepted cannot be told", [
			identity.label(g),
			json.marshal(object.get(_object(g), "RequireSenderAuthenticationEnabled", null)),
		]),
		"resource": _resource(g),
	}
}

findings contains f if {
	some g in _checkable
	count(_offending(g)) == 0
	_auth_known(g)
	f := {
		"status": "pass",
		"message": sprintf("%s accepts mail from outside the organisation: RequireSenderAuthenticationEnabled = false, and %s are empty", [
			identity.label(g),
			concat(", ", _accept_props),
		]),
		"resource": _resource(g),
	}
}
