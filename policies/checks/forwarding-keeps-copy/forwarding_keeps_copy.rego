# METADATA
# title: Support mailbox keeps a copy of forwarded mail
# description: >-
#   With mailbox forwarding and DeliverToMailboxAndForward off, the support mailbox keeps
#   nothing: if the ticketing address bounces or Atera drops a message, the customer's
#   e-mail is gone and there is no record to recover it from or to prove it arrived.
# custom:
#   id: forwarding-keeps-copy
#   severity: warning
#   source: "SPEC §1.2 method 2 and §2 (mailbox); Get-Mailbox.DeliverToMailboxAndForward"
#   remediation: |-
#     1. Exchange admin centre > Recipients > Mailboxes > the mailbox whose address is the support address >
#        Mail flow settings > Email forwarding > Edit: tick "Keep a copy of forwarded email in this mailbox".
#        Save.
#     2. PowerShell: Set-Mailbox -Identity <support address> -DeliverToMailboxAndForward $true
#        (keep the existing -ForwardingAddress; setting only this flag does not change where mail is forwarded).
package ticketguard.checks.forwarding_keeps_copy

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# ---------------------------------------------------------------------------
# Applicability (DESIGN "Check semantics decided"): method 2 mailbox only.

_method := "mailbox"

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
		"message": sprintf("no route from the support address %s to the ticketing contact was determined (see support-route), so it is unknown whether mailbox forwarding is in use%s", [
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
		"message": sprintf("the support address %s is routed by %s, not by mailbox forwarding; there is no forwarding copy to keep", [
			snap.support_address,
			concat(" and ", sort({_method_names[m] | some m in _methods})),
		]),
		"resource": sprintf("recipient:%s", [snap.support_address]),
	}
}

_mailboxes contains r.recipient if {
	snap.atera_declared
	some r in route.routes
	r.method == _method
}

# A route found in a list that failed to load completely is still a route,
# but the row's settings are not trusted: the read may have been cut short.
_cmdlet := "Get-Mailbox"

_checkable contains k if {
	some k in _mailboxes
	snap.collected(_cmdlet)
}

findings contains f if {
	some k in _mailboxes
	not snap.collected(_cmdlet)
	f := {
		"status": "indeterminate",
		"message": sprintf("%s: the settings of %s cannot be read reliably", [snap.missing_message([_cmdlet]), identity.label(k)]),
		"resource": _resource(k),
	}
}

# ---------------------------------------------------------------------------
# The copy.

_object(m) := identity.recipients[m].object

_resource(m) := sprintf("mailbox:%s", [identity.recipients[m].primary])

_prop := "DeliverToMailboxAndForward"

findings contains f if {
	some m in _checkable
	util.is_true(_object(m)[_prop])
	f := {
		"status": "pass",
		"message": sprintf("%s forwards to the ticketing contact and keeps a copy (DeliverToMailboxAndForward = true)", [identity.label(m)]),
		"resource": _resource(m),
	}
}

# null is the unset default, which Exchange treats as false.
findings contains f if {
	some m in _checkable
	_prop in object.keys(_object(m))
	not util.is_true(_object(m)[_prop])
	f := {
		"status": "fail",
		"message": sprintf("%s forwards to the ticketing contact without keeping a copy (DeliverToMailboxAndForward = %s): if the ticketing address bounces, the support mailbox has no record of the message", [
			identity.label(m),
			json.marshal(_object(m)[_prop]),
		]),
		"resource": _resource(m),
	}
}

findings contains f if {
	some m in _checkable
	not _prop in object.keys(_object(m))
	f := {
		"status": "indeterminate",
		"message": sprintf("%s has no DeliverToMailboxAndForward property in the Get-Mailbox output: whether it keeps a copy cannot be told", [identity.label(m)]),
		"resource": _resource(m),
	}
}
