# Transport rules as the fallback route (SPEC §1.2, §2 "fallback").
#
# A rule delivers support mail to Atera only when it acts on every message
# a customer sends to the support address: Enabled, Mode Enforce, inside its
# ActivationDate/ExpiryDate window, and with no condition or exception beyond
# the recipient being the support address. Anything else narrows the mail it
# redirects, and a rule that redirects some support mail is not a route.
#
# Get-TransportRule returns every predicate and action as a property, null
# (or false, or []) when unused. Rather than list the conditions, which
# Microsoft adds to, this file lists what is NOT one (bookkeeping, the
# actions that leave delivery alone, parameters of a condition) and treats
# every other property with a value as a condition: a predicate unknown to
# this code makes the route undecided, never passes it.
package ticketguard.lib.route

import data.ticketguard.lib.identity
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_action_fields := ["RedirectMessageTo", "BlindCopyTo", "AddToRecipients", "CopyTo"]

# Real Exchange Online always returns Mode. When it is absent or null the rule
# is taken to be enforced, but only if its State is Enabled: a hand-written or
# trimmed snapshot should not lose a working redirect for want of Mode.
enforced_transport_rules := [rule |
	some rule in snap.items("Get-TransportRule")
	is_object(rule)
	util.eq_fold(object.get(rule, "State", null), "Enabled")
	_enforce_mode(object.get(rule, "Mode", null))
]

_enforce_mode(null)

_enforce_mode(mode) if util.eq_fold(mode, "Enforce")

# Enforced rules that act at the evaluation time. A date that cannot be read
# or compared keeps the rule here (it may act: the delivery graph must not
# lose a possible hop) and makes it conditional (transport_rule_conditions).
active_transport_rules := [rule |
	some rule in enforced_transport_rules
	count(_date_reasons(rule)) == 0
]

# ---------------------------------------------------------------------------
# Candidates: rules that would send the support recipient's mail to Atera.

transport_rule_candidates contains c if {
	some rule in snap.items("Get-TransportRule")
	is_object(rule)
	some recipient in _rule_support_targets(rule)
	some field in _action_fields
	some target in util.strings(object.get(rule, field, null))
	_target_may_reach(target)
	c := {
		"name": _rule_name(rule),
		"recipient": recipient,
		"detail": sprintf("transport rule %s (priority %v) sends mail for %s to %s (%s)", [
			util.quote(_rule_name(rule)),
			object.get(rule, "Priority", "unknown"),
			identity.label(recipient),
			_ref_label(target),
			field,
		]),
		"inactive": transport_rule_inactive_reasons(rule),
		"conditions": transport_rule_conditions(rule),
		"excludes_external": _excludes_external(rule),
		"ambiguous": sort(_sent_to_ambiguity(rule) | {_ambiguity(field, target) | _may_reach_ticketing(target)}),
	}
}

_target_may_reach(target) if _reaches_ticketing(target)

_target_may_reach(target) if _may_reach_ticketing(target)

# SentTo names the support recipient among other objects equally well.
_sent_to_ambiguity(rule) := {_ambiguity("SentTo", v) |
	some v in util.strings(object.get(rule, "SentTo", null))
	ks := identity.resolve_best(v)
	count(ks) > 1
	count(ks & support_recipients) > 0
	count(ks - support_recipients) > 0
}

_rule_name(rule) := n if {
	n := object.get(rule, "Name", null)
	is_string(n)
} else := n if {
	n := object.get(rule, "Identity", null)
	is_string(n)
} else := "(no name)"

# The support recipients a rule's SentTo names. When the support address is
# named but no recipient of the snapshot has it, the node is "external:addr".
_rule_support_targets(rule) := {k |
	some v in util.strings(object.get(rule, "SentTo", null))
	some k in _support_nodes(v)
}

_support_nodes(v) := ks if {
	ks := identity.resolve_best(v) & support_recipients
	count(ks) > 0
} else := identity.node(snap.support_address) if {
	util.parse_ref(v) == snap.support_address
} else := set()

# ---------------------------------------------------------------------------
# Why a rule does not act at all.

transport_rule_inactive_reasons(rule) := [r |
	some r in array.concat([_state_reason(rule), _mode_reason(rule)], _date_reasons(rule))
	r != ""
]

_state_reason(rule) := "" if {
	util.eq_fold(object.get(rule, "State", null), "Enabled")
} else := sprintf("State = %s (a disabled rule does nothing)", [util.quote(object.get(rule, "State", null))])

_mode_reason(rule) := "" if {
	_enforce_mode(object.get(rule, "Mode", null))
} else := sprintf("Mode = %s (Audit and AuditAndNotify only log the match; the message is delivered as if the rule did not exist)", [util.quote(object.get(rule, "Mode", null))])

_date_reasons(rule) := [r |
	some r in [_activation_reason(rule), _expiry_reason(rule)]
	r != ""
]

_activation_reason(rule) := sprintf("ActivationDate = %s, after the evaluation time %s (the rule does not act yet)", [util.quote(v), _now_text]) if {
	v := object.get(rule, "ActivationDate", null)
	_date_ns(v) > _now_ns
} else := ""

_expiry_reason(rule) := sprintf("ExpiryDate = %s, before the evaluation time %s (the rule has expired and no longer acts)", [util.quote(v), _now_text]) if {
	v := object.get(rule, "ExpiryDate", null)
	_date_ns(v) <= _now_ns
} else := ""

# The evaluation time (DESIGN "Rego input"); undefined without one, and then
# no date can be compared.
_now_ns := input.now_ns if {
	is_number(input.now_ns)
} else := time.parse_rfc3339_ns(input.now)

_now_text := input.now if {
	is_string(input.now)
} else := sprintf("%v (ns)", [_now_ns])

# Dates as the admin API writes them ("2026-07-23T21:51:45.0000000+00:00")
# or as ConvertTo-Json does ("/Date(1777879881000)/"); undefined otherwise.
_date_ns(v) := to_number(m[1]) * 1000000 if {
	is_string(v)
	m := regex.find_all_string_submatch_n(`^/Date\((-?[0-9]+)([+-][0-9]{4})?\)/$`, trim_space(v), 1)[0]
} else := time.parse_rfc3339_ns(trim_space(v)) if {
	is_string(v)
}

# ---------------------------------------------------------------------------
# What narrows the mail a rule acts on. A sorted array of sentences, each
# naming the property and its value.

transport_rule_conditions(rule) := sort((((_property_conditions(rule) | _listed_conditions(rule)) | _date_conditions(rule)) | _stop_conditions(rule)))

_property_conditions(rule) := {t |
	some key, value in rule
	is_string(key)
	not contains(key, "@")
	not _empty(value)
	lk := lower(key)
	not lk in _not_conditions
	not _benign(lk, value)
	t := _condition_text(key, lk, value)
}

# An unused property: null, false, blank, or an empty list or object.
_empty(v) if v == null

_empty(false)

_empty(v) if {
	is_string(v)
	trim_space(v) == ""
}

_empty(v) if {
	is_array(v)
	every x in v {
		_empty_scalar(x)
	}
}

_empty_scalar(x) if x == null

_empty_scalar(false)

_empty_scalar(x) if {
	is_string(x)
	trim_space(x) == ""
}

_empty(v) if {
	is_object(v)
	count(v) == 0
}

# Lower-cased property names that are not conditions.
_not_conditions := {
	# bookkeeping
	"name", "identity", "guid", "immutableid", "distinguishedname", "id", "priority", "state",
	"mode", "comments", "description", "whenchanged", "whenchangedutc", "whencreated",
	"whencreatedutc", "objectstate", "isvalid", "exchangeversion", "organizationid",
	"originatingserver", "ruleversion", "ruleerroraction", "senderaddresslocation",
	"rulesubtype", "uselegacyregex", "manuallymodified", "dlppolicy", "dlppolicyid",
	"runspaceid", "pscomputername", "psshowcomputername", "objectclass", "objectcategory",
	# summaries of the predicate and action properties: _listed_conditions
	"conditions", "exceptions", "actions",
	# the activation window: _date_reasons, _date_conditions
	"activationdate", "expirydate",
	# actions that deliver (the route itself) or leave delivery alone
	"redirectmessageto", "blindcopyto", "addtorecipients", "copyto", "addmanagerasrecipienttype",
	"prependsubject", "setheadername", "setheadervalue", "removeheader", "applyclassification",
	"applyhtmldisclaimerlocation", "applyhtmldisclaimertext", "applyhtmldisclaimerfallbackaction",
	"setscl", "setauditseverity", "logeventtext", "stopruleprocessing", "generateincidentreport",
	"incidentreportcontent", "incidentreportoriginalmail", "generatenotification",
	"routemessageoutboundrequiretls",
	# parameters of a condition, never a condition by themselves
	"headercontainsmessageheader", "exceptifheadercontainsmessageheader",
	"headermatchesmessageheader", "exceptifheadermatchesmessageheader",
	"adcomparisonoperator", "exceptifadcomparisonoperator", "managerforevaluateduser",
	"exceptifmanagerforevaluateduser", "recipientaddresstype",
}

# Conditions every message to the support address from outside meets.
_benign("sentto", _)

_benign("senttoscope", v) if util.eq_fold(v, "InOrganization")

_benign("fromscope", v) if util.eq_fold(v, "NotInOrganization")

_benign("exceptiffromscope", v) if util.eq_fold(v, "InOrganization")

# RecipientDomainIs matches the domain and its subdomains.
_benign("recipientdomainis", v) if {
	d := util.domain_of(snap.support_address)
	some x in util.strings(v)
	_domain_matches(d, lower(trim_space(x)))
}

_benign(lk, v) if {
	lk in {"recipientaddresscontainswords", "anyofrecipientaddresscontainswords"}
	some w in util.strings(v)
	contains(snap.support_address, lower(trim_space(w)))
}

# Exchange patterns are .NET regular expressions; one RE2 cannot compile
# leaves the condition undecided.
_benign(lk, v) if {
	lk in {"recipientaddressmatchespatterns", "anyofrecipientaddressmatchespatterns"}
	some p in util.strings(v)
	regex.match(concat("", ["(?i)", p]), snap.support_address)
}

_domain_matches(d, d)

_domain_matches(d, x) if endswith(d, concat("", [".", x]))

# Actions that can stop, hold or alter the message instead of letting it
# through.
_disruptive_actions := {
	"deletemessage", "quarantine", "rejectmessagereasontext", "rejectmessageenhancedstatuscode",
	"smtprejectmessagerejecttext", "smtprejectmessagerejectstatuscode", "moderatemessagebyuser",
	"moderatemessagebymanager", "routemessageoutboundconnector", "applyrightsprotectiontemplate",
	"applyrightsprotectioncustomizationtemplate", "applyome", "disconnect", "notifysender",
	"sendernotificationtype",
}

_condition_text(key, lk, v) := sprintf("%s = %s (only senders inside the organisation match: customers writing from outside are never redirected)", [key, json.marshal(v)]) if {
	lk == "fromscope"
	util.eq_fold(v, "InOrganization")
} else := sprintf("%s = %s (senders outside the organisation are excepted: customers writing from outside are never redirected)", [key, json.marshal(v)]) if {
	lk == "exceptiffromscope"
	util.eq_fold(v, "NotInOrganization")
} else := sprintf("%s = %s (the support address %s does not match it, so the rule does not act on its mail)", [key, json.marshal(v), snap.support_address]) if {
	lk in {"senttoscope", "recipientdomainis"}
} else := sprintf("%s = %s (an action that can stop, hold or alter the message)", [key, json.marshal(v)]) if {
	lk in _disruptive_actions
} else := sprintf("%s = %s (an exception: messages that match it are not redirected)", [key, json.marshal(v)]) if {
	startswith(lk, "exceptif")
} else := sprintf("%s = %s (a condition: the rule acts only on messages that match it)", [key, json.marshal(v)])

_excludes_external(rule) if {
	some key, v in rule
	lower(key) == "fromscope"
	util.eq_fold(v, "InOrganization")
}

_excludes_external(rule) if {
	some key, v in rule
	lower(key) == "exceptiffromscope"
	util.eq_fold(v, "NotInOrganization")
}

default _excludes_external(_) := false

# Conditions/Exceptions list the predicate classes in use
# ("Microsoft.Exchange.MessagingPolicies.Rules.Tasks.FromScopePredicate").
# One whose property is absent from the snapshot (a trimmed export) tests
# something this code cannot see.
_listed_conditions(rule) := {t |
	some [field, prefix] in [["Conditions", ""], ["Exceptions", "exceptif"]]
	some entry in util.strings(object.get(rule, field, null))
	short := _predicate_name(entry)
	not _explained(rule, concat("", [prefix, lower(short)]))
	t := sprintf("%s lists %s, but the snapshot has no value for it, so what it tests is unknown", [field, entry])
}

_predicate_name(entry) := trim_suffix(parts[count(parts) - 1], "Predicate") if {
	parts := split(trim_space(entry), ".")
}

# "SubjectContainsPredicate" is the SubjectContainsWords property,
# "SubjectMatchesPredicate" SubjectMatchesPatterns.
_explained(rule, name) if {
	some key, value in rule
	is_string(key)
	lk := lower(key)
	startswith(lk, name)
	substring(lk, count(name), -1) in {"", "words", "patterns"}
	not _empty(value)
}

_date_conditions(rule) := {t |
	some field in ["ActivationDate", "ExpiryDate"]
	v := object.get(rule, field, null)
	not util.is_blank(v)
	t := _date_problem(field, v)
}

_date_problem(field, v) := sprintf("%s = %s cannot be read as a date, so whether the rule acts now is unknown", [field, json.marshal(v)]) if {
	not _date_ns(v)
} else := sprintf("%s = %s cannot be compared with the evaluation time (input.now is missing), so whether the rule acts now is unknown", [field, json.marshal(v)]) if {
	not _now_ns
}

# Rules run in Priority order (0 first); one with StopRuleProcessing that
# matches a message keeps every later rule from seeing it.
_stop_conditions(rule) := {t |
	p := _priority(rule)
	some other in active_transport_rules
	other != rule
	util.is_true(object.get(other, "StopRuleProcessing", null))
	q := _priority(other)
	q < p
	t := sprintf("transport rule %s (priority %v) runs first and has StopRuleProcessing = true: when it matches a message, this rule is not evaluated", [util.quote(_rule_name(other)), q])
}

_priority(rule) := p if {
	p := object.get(rule, "Priority", null)
	is_number(p)
} else := to_number(trim_space(p)) if {
	p := object.get(rule, "Priority", null)
	is_string(p)
}
