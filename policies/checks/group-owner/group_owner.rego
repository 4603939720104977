# METADATA
# title: Support distribution group has an owner
# description: >-
#   A distribution group without an owner (ManagedBy empty) cannot have its membership
#   managed from Outlook, and some admin operations on it fail; when the ticketing
#   contact has to be re-added or replaced, only a global or Exchange administrator can
#   do it, which delays fixing a broken ticket route.
# custom:
#   id: group-owner
#   severity: warning
#   source: "SPEC §1.2 method 1 and §2 (group); Get-DistributionGroup.ManagedBy"
#   remediation: |-
#     1. Exchange admin centre > Recipients > Groups > Distribution list > the group whose address is the
#        support address > Members > Owners: View all and manage owners > Add owners: add the person (or
#        service account) responsible for the support mailbox. Save.
#     2. PowerShell: Set-DistributionGroup -Identity <support address> -ManagedBy @{Add="<owner address>"}
package ticketguard.checks.group_owner

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# ---------------------------------------------------------------------------
# Applicability (DESIGN "Check semantics decided"): method 1 group only.

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
		"message": sprintf("the support address %s is routed by %s, not by a distribution group; no group owner is needed", [
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
# The owners.

_object(g) := identity.recipients[g].object

_resource(g) := sprintf("group:%s", [identity.recipients[g].primary])

# ManagedBy holds names as Exchange prints them (often the owner's Name, a
# GUID-like string on recent tenants); show the recipient when it resolves.
_owner_text(ref) := identity.label(k) if {
	ks := identity.resolve(ref)
	count(ks) == 1
	some k in ks
} else := util.quote(ref)

_owners(g) := util.strings(object.get(_object(g), "ManagedBy", null))

findings contains f if {
	some g in _checkable
	not "ManagedBy" in object.keys(_object(g))
	f := {
		"status": "indeterminate",
		"message": sprintf("%s has no ManagedBy property in the Get-DistributionGroup output: its owners cannot be told", [identity.label(g)]),
		"resource": _resource(g),
	}
}

findings contains f if {
	some g in _checkable
	"ManagedBy" in object.keys(_object(g))
	count(_owners(g)) == 0
	f := {
		"status": "fail",
		"message": sprintf("%s has no owner (ManagedBy = %s): nobody can manage its membership from Outlook and some admin operations on it fail, so re-adding the ticketing contact needs an Exchange administrator", [
			identity.label(g),
			json.marshal(_object(g).ManagedBy),
		]),
		"resource": _resource(g),
	}
}

findings contains f if {
	some g in _checkable
	count(_owners(g)) > 0
	f := {
		"status": "pass",
		"message": sprintf("%s is managed by %s", [
			identity.label(g),
			concat(", ", sort({_owner_text(o) | some o in _owners(g)})),
		]),
		"resource": _resource(g),
	}
}
