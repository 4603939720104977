# METADATA
# title: External forwarding to the ticketing address is allowed
# description: >-
#   Exchange Online lets support mail leave the organisation for the Atera
#   ticketing address only when three settings agree: the outbound anti-spam
#   policy that applies to the forwarding recipient has automatic forwarding On,
#   the remote domain that matches the ticketing domain allows automatic
#   forwarding, and no transport rule rejects or deletes auto-forwarded mail.
#   When any of them blocks, customers' e-mails are bounced (550 5.7.520) or
#   dropped and never become tickets.
# custom:
#   id: external-forwarding
#   severity: error
#   source: >-
#     SPEC §1.3, §2 "forwarding" and "A block anywhere wins";
#     Get-HostedOutboundSpamFilterPolicy.AutoForwardingMode,
#     Get-HostedOutboundSpamFilterRule (From, FromMemberOf, SenderDomainIs, Priority, State),
#     Get-RemoteDomain.AutoForwardEnabled,
#     Get-TransportRule (MessageTypeMatches, RejectMessageReasonText,
#     RejectMessageEnhancedStatusCode, DeleteMessage, State, Mode)
#   remediation: |-
#     1. Outbound anti-spam policy: Microsoft Defender portal > Email & collaboration >
#        Policies & rules > Threat policies > Anti-spam policies > Create policy > Outbound.
#        Name it "Atera ticket forwarding", add only the support recipient under Users
#        (or Groups), and set "Automatic forwarding rules" to "On - Forwarding is enabled".
#        PowerShell:
#          New-HostedOutboundSpamFilterPolicy -Name "Atera ticket forwarding" -AutoForwardingMode On
#          New-HostedOutboundSpamFilterRule -Name "Atera ticket forwarding" -HostedOutboundSpamFilterPolicy "Atera ticket forwarding" -From <support address> -Priority 0
#        If the finding names a policy that should allow it instead:
#          Set-HostedOutboundSpamFilterPolicy -Identity "<policy name>" -AutoForwardingMode On
#        Do not leave it on Automatic: Microsoft documents Automatic inconsistently.
#     2. Remote domain: Exchange admin centre > Mail flow > Remote domains > Add a remote domain,
#        domain "ticketing.atera.com", tick "Allow automatic forwarding".
#        PowerShell:
#          New-RemoteDomain -Name "Atera ticketing" -DomainName ticketing.atera.com
#          Set-RemoteDomain -Identity "Atera ticketing" -AutoForwardEnabled $true
#        (or Set-RemoteDomain -Identity "<remote domain name>" -AutoForwardEnabled $true on the one named in the finding).
#     3. Transport rule: Exchange admin centre > Mail flow > Rules, open the rule named in the
#        finding and add the exception "The recipient domain is ticketing.atera.com" (or turn it off).
#        PowerShell:
#          Set-TransportRule -Identity "<rule name>" -ExceptIfRecipientDomainIs ticketing.atera.com
#     4. Send a test message to <support address> from an outside mailbox and confirm a ticket
#        appears in Atera; message trace must show no 550 5.7.520 bounce to <ticketing address>.
package ticketguard.checks.external_forwarding

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.scope
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# ---------------------------------------------------------------------------
# Applicability

# Routes that use Exchange forwarding (group expansion or mailbox forwarding)
# and are therefore subject to the outbound policy, remote domains and
# transport rules. A transport-rule redirect is not an automatic forward.
_forwarding_routes := {r |
	some r in route.routes
	r.method in {"group", "mailbox"}
}

_applies if count(_forwarding_routes) > 0

_ticketing_domain := util.domain_of(snap.ticketing_address)

_resource(key) := sprintf("%s:%s", [r.kind, r.primary]) if {
	r := identity.recipients[key]
} else := key

findings contains f if {
	not snap.ticketing_address
	f := {
		"status": "indeterminate",
		"message": "the Atera ticketing address is not declared: declare atera.ticketing_address in the snapshot / config",
	}
}

findings contains f if {
	snap.ticketing_address
	not snap.support_address
	f := {
		"status": "indeterminate",
		"message": "the Atera primary support address is not declared: declare atera.support_address in the snapshot / config",
	}
}

findings contains f if {
	snap.atera_declared
	count(route.routes) == 0
	count(route.missing_sources) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot find the route from %s to %s: %s", [snap.support_address, snap.ticketing_address, route.missing_message]),
	}
}

findings contains f if {
	snap.atera_declared
	count(route.routes) == 0
	count(route.missing_sources) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no route from %s to %s was found (see the support-route check), so the forwarding that must be allowed is unknown", [snap.support_address, snap.ticketing_address]),
	}
}

findings contains f if {
	snap.atera_declared
	count(route.routes) > 0
	not _applies
	some r in route.routes
	f := {
		"status": "not_applicable",
		"message": sprintf("support mail reaches %s through the transport-rule fallback (%s); a transport-rule redirect is not subject to the outbound anti-spam policy's automatic forwarding control", [snap.ticketing_address, r.detail]),
		"resource": _resource(r.recipient),
	}
}

# ---------------------------------------------------------------------------
# Part a: the outbound anti-spam policy that applies to the forwarding recipient

_policy_name(p) := p.Name if is_string(p.Name)

else := p.Identity if is_string(p.Identity)

else := "(unnamed policy)"

_selected_by(res) := "the default policy, no rule matched" if res.rule == null

else := sprintf("selected by rule %q", [res.rule])

_mode(p) := lower(trim_space(p.AutoForwardingMode)) if is_string(p.AutoForwardingMode)

_mode_known(p) if _mode(p) in {"on", "off", "automatic"}

_policy_intro(r, res) := sprintf("outbound anti-spam policy %q (%s) applies to %s and has AutoForwardingMode = %v", [
	_policy_name(res.policy), _selected_by(res), identity.label(r.recipient), res.policy.AutoForwardingMode,
])

_policy_resource(res) := sprintf("outbound-policy:%s", [_policy_name(res.policy)])

_applicable_outbound contains [r, res] if {
	some r in _forwarding_routes
	res := scope.applicable("outbound", r.recipient)
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status != "known"
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot tell which outbound anti-spam policy applies to %s: %s", [identity.label(r.recipient), res.reason]),
		"resource": _resource(r.recipient),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_mode(res.policy) == "on"
	f := {
		"status": "pass",
		"message": sprintf("%s: automatic forwarding to external recipients is enabled", [_policy_intro(r, res)]),
		"resource": _policy_resource(res),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_mode(res.policy) == "automatic"
	f := {
		"status": "fail",
		"message": sprintf(
			"%s, not On. Microsoft's pages disagree about Automatic: one says it \"is now the same as Off for all customers\", the Set-HostedOutboundSpamFilterPolicy page says organisations that used it before may still behave as On. Do not rely on it: set On",
			[_policy_intro(r, res)],
		),
		"resource": _policy_resource(res),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_mode(res.policy) == "off"
	f := {
		"status": "fail",
		"message": sprintf(
			"%s: forwarded support mail is bounced with 550 5.7.520 Access denied, Your organization does not allow external forwarding (AS(7555)) and never becomes a ticket",
			[_policy_intro(r, res)],
		),
		"resource": _policy_resource(res),
	}
}

# AutoForwardingMode is On, Off or Automatic (case-insensitive). Anything else
# (missing, null, a number, an object, an unknown word) is not a setting the
# cmdlet returns: whether it allows forwarding is unknown.
findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	not _mode_known(res.policy)
	f := {
		"status": "indeterminate",
		"message": sprintf("outbound anti-spam policy %q (%s) applies to %s but has AutoForwardingMode = %s in the Get-HostedOutboundSpamFilterPolicy output, which is not On, Off or Automatic: cannot tell whether it allows automatic forwarding to %s", [_policy_name(res.policy), _selected_by(res), identity.label(r.recipient), json.marshal(object.get(res.policy, "AutoForwardingMode", null)), snap.ticketing_address]),
		"resource": _policy_resource(res),
	}
}

# ---------------------------------------------------------------------------
# Part b: the most specific remote domain that matches the ticketing domain

_rd_name(rd) := rd.Name if is_string(rd.Name)

else := rd.Identity if is_string(rd.Identity)

else := rd.DomainName

_rd_domain(rd) := lower(trim_space(rd.DomainName)) if is_string(rd.DomainName)

# "*.contoso.com" means "contoso.com and all its subdomains" (New-RemoteDomain -DomainName).
_within(domain, suffix) if domain == suffix

_within(domain, suffix) if endswith(domain, concat("", [".", suffix]))

# Specificity: an exact DomainName beats any wildcard, a longer wildcard beats a
# shorter one, and the Default "*" matches everything with the lowest rank.
_rd_rank(rd) := 100000 if _rd_domain(rd) == _ticketing_domain

else := count(suffix) + 1 if {
	d := _rd_domain(rd)
	startswith(d, "*.")
	suffix := substring(d, 2, -1)
	suffix != ""
	_within(_ticketing_domain, suffix)
}

else := 0 if _rd_domain(rd) == "*"

_rd_ranked := [[rank, rd] |
	some rd in snap.items("Get-RemoteDomain")
	rank := _rd_rank(rd)
]

_rd_best := {rd |
	best := max({rank | some [rank, _] in _rd_ranked})
	some [rank, rd] in _rd_ranked
	rank == best
}

_rd_intro(rd) := sprintf("remote domain %q (DomainName %s) is the most specific match for %s and has AutoForwardEnabled = %v", [
	_rd_name(rd), rd.DomainName, _ticketing_domain, rd.AutoForwardEnabled,
])

_rd_resource(rd) := sprintf("remote-domain:%s", [_rd_name(rd)])

findings contains f if {
	_applies
	missing := snap.unavailable(["Get-RemoteDomain"])
	count(missing) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot tell whether remote domains allow automatic forwarding to %s: %s", [_ticketing_domain, snap.missing_message(missing)]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-RemoteDomain")
	count(_rd_best) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("Get-RemoteDomain returned no remote domain matching %s, not even the Default (*): the output is incomplete", [_ticketing_domain]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-RemoteDomain")
	some rd in _rd_best
	util.is_true(rd.AutoForwardEnabled)
	f := {
		"status": "pass",
		"message": _rd_intro(rd),
		"resource": _rd_resource(rd),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-RemoteDomain")
	some rd in _rd_best
	util.is_false(rd.AutoForwardEnabled)
	f := {
		"status": "fail",
		"message": sprintf("%s: automatic forwards to %s are blocked whatever the outbound anti-spam policy says", [_rd_intro(rd), snap.ticketing_address]),
		"resource": _rd_resource(rd),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-RemoteDomain")
	some rd in _rd_best
	not util.is_true(rd.AutoForwardEnabled)
	not util.is_false(rd.AutoForwardEnabled)
	f := {
		"status": "indeterminate",
		"message": sprintf("remote domain %q (DomainName %s) is the most specific match for %s but its AutoForwardEnabled is %v in the Get-RemoteDomain output", [_rd_name(rd), rd.DomainName, _ticketing_domain, object.get(rd, "AutoForwardEnabled", "absent")]),
		"resource": _rd_resource(rd),
	}
}

# ---------------------------------------------------------------------------
# Part c: transport rules that reject or delete auto-forwarded mail

# A rule with no State or Mode is taken as enabled and enforced (the defaults),
# so an incomplete row can only make the check stricter.
_enforced(rule) if {
	_state_enabled(rule)
	_enforce_mode(rule)
}

_state_enabled(rule) if util.eq_fold(rule.State, "Enabled")

_state_enabled(rule) if util.is_blank(object.get(rule, "State", null))

_enforce_mode(rule) if util.eq_fold(rule.Mode, "Enforce")

_enforce_mode(rule) if util.is_blank(object.get(rule, "Mode", null))

_matches_autoforward(rule) if {
	some t in util.strings(object.get(rule, "MessageTypeMatches", null))
	util.eq_fold(t, "AutoForward")
}

_actions(rule) := [a |
	some a in [
		_reject_action(rule),
		_delete_action(rule),
	]
	a != ""
]

_reject_action(rule) := sprintf("rejects it (RejectMessageEnhancedStatusCode %v, RejectMessageReasonText %v)", [
	object.get(rule, "RejectMessageEnhancedStatusCode", null),
	util.quote(object.get(rule, "RejectMessageReasonText", null)),
]) if {
	some p in ["RejectMessageReasonText", "RejectMessageEnhancedStatusCode"]
	not util.is_blank(object.get(rule, p, null))
} else := ""

_delete_action(rule) := "deletes it (DeleteMessage = true)" if util.is_true(object.get(rule, "DeleteMessage", null))

else := ""

# The forward to the ticketing address cannot meet these conditions, so the rule
# does not block it. Only conditions ticketguard can decide are evaluated; any
# other condition leaves the rule counted as blocking (never a false pass).
_cannot_apply(rule) if util.eq_fold(object.get(rule, "SentToScope", null), "InOrganization")

_cannot_apply(rule) if {
	domains := util.strings(object.get(rule, "RecipientDomainIs", null))
	count(domains) > 0
	every d in domains {
		not _within(_ticketing_domain, lower(trim_space(d)))
	}
}

_cannot_apply(rule) if {
	some d in util.strings(object.get(rule, "ExceptIfRecipientDomainIs", null))
	_within(_ticketing_domain, lower(trim_space(d)))
}

_cannot_apply(rule) if {
	refs := util.strings(object.get(rule, "SentTo", null))
	count(refs) > 0
	every ref in refs {
		not _is_ticketing_ref(ref)
	}
}

_cannot_apply(rule) if {
	some ref in util.strings(object.get(rule, "ExceptIfSentTo", null))
	_is_ticketing_ref(ref)
}

_is_ticketing_ref(ref) if util.parse_ref(ref) == snap.ticketing_address

_is_ticketing_ref(ref) if {
	some k in identity.resolve(ref)
	k in route.ticketing_contacts
}

# Rules that block auto-forwarding in general but whose conditions leave the
# ticketing address out: named in the pass message, so the reader sees the
# exception is deliberate.
_exempting contains rule.Name if {
	some rule in snap.items("Get-TransportRule")
	_enforced(rule)
	_matches_autoforward(rule)
	count(_actions(rule)) > 0
	_cannot_apply(rule)
}

_exempting_text := sprintf("; %s %s %s auto-forwarded mail but %s the ticketing address out", [
	_plural(count(_exempting), "rule", "rules"),
	concat(", ", [util.quote(n) | some n in _exempting]),
	_plural(count(_exempting), "blocks", "block"),
	_plural(count(_exempting), "leaves", "leave"),
]) if count(_exempting) > 0

else := ""

_plural(n, one, many) := one if n == 1

else := many

_blocking_rules contains rule if {
	some rule in snap.items("Get-TransportRule")
	_enforced(rule)
	_matches_autoforward(rule)
	count(_actions(rule)) > 0
	not _cannot_apply(rule)
}

findings contains f if {
	_applies
	missing := snap.unavailable(["Get-TransportRule"])
	count(missing) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot tell whether a transport rule blocks auto-forwarded mail: %s", [snap.missing_message(missing)]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-TransportRule")
	some rule in _blocking_rules
	f := {
		"status": "fail",
		"message": sprintf(
			"transport rule %q (Priority %v, State %v, Mode %v) matches MessageTypeMatches = AutoForward and %s: the forward to %s is blocked whatever the outbound anti-spam policy says",
			[rule.Name, object.get(rule, "Priority", null), object.get(rule, "State", null), object.get(rule, "Mode", null), concat(" and ", _actions(rule)), snap.ticketing_address],
		),
		"resource": sprintf("transport-rule:%s", [rule.Name]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-TransportRule")
	count(_blocking_rules) == 0
	f := {
		"status": "pass",
		"message": sprintf("no transport rule (%d in total) rejects or deletes auto-forwarded mail to %s%s", [count(snap.items("Get-TransportRule")), snap.ticketing_address, _exempting_text]),
		"resource": "transport-rules",
	}
}
