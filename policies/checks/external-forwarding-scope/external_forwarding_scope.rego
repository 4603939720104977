# METADATA
# title: The external-forwarding exception is as narrow as it can be
# description: >-
#   Security baselines (CISA SCuBA, CIPP standards) want automatic external
#   forwarding Off. Atera ticketing needs it for the support recipient only:
#   a custom outbound anti-spam policy scoped to that recipient and a remote
#   domain for the ticketing domain. Turning it on in the default policy, for a
#   whole sender domain, or through the Default (*) remote domain lets any
#   compromised mailbox forward the organisation's mail anywhere, and will be
#   flagged by every baseline audit.
# custom:
#   id: external-forwarding-scope
#   severity: warning
#   source: >-
#     SPEC §2 "forwarding" and "Security baselines ... how narrow the exception is";
#     Get-HostedOutboundSpamFilterPolicy (IsDefault, AutoForwardingMode),
#     Get-HostedOutboundSpamFilterRule (From, FromMemberOf, SenderDomainIs),
#     Get-RemoteDomain (DomainName, AutoForwardEnabled)
#   remediation: |-
#     1. Scope the exception to the support recipient: Microsoft Defender portal > Email &
#        collaboration > Policies & rules > Threat policies > Anti-spam policies > Create policy >
#        Outbound, name "Atera ticket forwarding", Users: <support address> only, "Automatic
#        forwarding rules" = "On - Forwarding is enabled".
#        PowerShell:
#          New-HostedOutboundSpamFilterPolicy -Name "Atera ticket forwarding" -AutoForwardingMode On
#          New-HostedOutboundSpamFilterRule -Name "Atera ticket forwarding" -HostedOutboundSpamFilterPolicy "Atera ticket forwarding" -From <support address> -Priority 0
#        If the rule named in the finding uses a sender domain, replace it with the support recipient:
#          Set-HostedOutboundSpamFilterRule -Identity "<rule name>" -SenderDomainIs $null -From <support address>
#     2. Turn forwarding back off for everyone else: Anti-spam policies > "Anti-spam outbound
#        policy (Default)" > Edit protection settings > Automatic forwarding rules = "Off - Forwarding is disabled".
#        PowerShell: Set-HostedOutboundSpamFilterPolicy -Identity Default -AutoForwardingMode Off
#        (do this only after step 1, or ticketing stops).
#     3. Give the ticketing domain its own remote domain: Exchange admin centre > Mail flow >
#        Remote domains > Add a remote domain, domain "ticketing.atera.com", tick "Allow automatic forwarding".
#        PowerShell:
#          New-RemoteDomain -Name "Atera ticketing" -DomainName ticketing.atera.com
#          Set-RemoteDomain -Identity "Atera ticketing" -AutoForwardEnabled $true
#        Then keep the Default (*) remote domain as your baseline wants
#        (Set-RemoteDomain -Identity Default -AutoForwardEnabled $false for CISA SCuBA).
#     4. Send a test message to <support address> and confirm the ticket appears in Atera.
package ticketguard.checks.external_forwarding_scope

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.scope
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

# ---------------------------------------------------------------------------
# Applicability (same as external-forwarding)

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
		"message": sprintf("no route from %s to %s was found (see the support-route check), so the forwarding exception cannot be assessed", [snap.support_address, snap.ticketing_address]),
	}
}

findings contains f if {
	snap.atera_declared
	count(route.routes) > 0
	not _applies
	some r in route.routes
	f := {
		"status": "not_applicable",
		"message": sprintf("support mail reaches %s through the transport-rule fallback (%s), which needs no external-forwarding exception", [snap.ticketing_address, r.detail]),
		"resource": _resource(r.recipient),
	}
}

# ---------------------------------------------------------------------------
# AutoForwardingMode: On, Off or Automatic (case-insensitive). Any other value
# (null, a number, an object, an unknown word) cannot be read, and the
# findings that depend on it are indeterminate.

_policy_name(p) := p.Name if is_string(p.Name)

else := p.Identity if is_string(p.Identity)

else := "(unnamed policy)"

_mode(p) := m if {
	is_string(p.AutoForwardingMode)
	m := lower(trim_space(p.AutoForwardingMode))
	m in {"on", "off", "automatic"}
}

_mode_on(p) if _mode(p) == "on"

_mode_text(p) := json.marshal(object.get(p, "AutoForwardingMode", null)) if {
	not _mode(p)
} else := p.AutoForwardingMode

_unreadable_mode_message(p, context) := sprintf("outbound anti-spam policy %q %s has AutoForwardingMode = %s, which is not On, Off or Automatic: cannot tell whether it allows automatic external forwarding (check the policy in Get-HostedOutboundSpamFilterPolicy)", [_policy_name(p), context, _mode_text(p)])

# ---------------------------------------------------------------------------
# The default outbound policy: On lets everyone forward externally.

_default_policies := [p |
	some p in snap.items("Get-HostedOutboundSpamFilterPolicy")
	util.is_true(p.IsDefault)
]

findings contains f if {
	_applies
	missing := snap.unavailable(["Get-HostedOutboundSpamFilterPolicy"])
	count(missing) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot read the default outbound anti-spam policy: %s", [snap.missing_message(missing)]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-HostedOutboundSpamFilterPolicy")
	count(_default_policies) == 0
	f := {
		"status": "indeterminate",
		"message": "Get-HostedOutboundSpamFilterPolicy returned no policy with IsDefault = true: the output is incomplete",
	}
}

findings contains f if {
	_applies
	snap.collected("Get-HostedOutboundSpamFilterPolicy")
	some p in _default_policies
	_mode_on(p)
	f := {
		"status": "fail",
		"message": sprintf("the default outbound anti-spam policy %q has AutoForwardingMode = %v: everyone in the organisation can auto-forward mail externally (CISA SCuBA and CIPP baselines want it Off); allow it for the support recipient only with a custom policy", [_policy_name(p), p.AutoForwardingMode]),
		"resource": sprintf("outbound-policy:%s", [_policy_name(p)]),
	}
}

# Automatic is documented inconsistently (see external-forwarding): it is not On,
# but the reader should know Off is the unambiguous baseline value.
_automatic_note(p) := " (Microsoft documents Automatic as Off for all customers, but also says organisations that used it before may still behave as On; Off is the unambiguous baseline value)" if {
	_mode(p) == "automatic"
} else := ""

findings contains f if {
	_applies
	snap.collected("Get-HostedOutboundSpamFilterPolicy")
	some p in _default_policies
	_mode(p) in {"off", "automatic"}
	f := {
		"status": "pass",
		"message": sprintf("the default outbound anti-spam policy %q has AutoForwardingMode = %v, not On: automatic external forwarding is not switched on for the whole organisation%s", [_policy_name(p), p.AutoForwardingMode, _automatic_note(p)]),
		"resource": sprintf("outbound-policy:%s", [_policy_name(p)]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-HostedOutboundSpamFilterPolicy")
	some p in _default_policies
	not _mode(p)
	f := {
		"status": "indeterminate",
		"message": _unreadable_mode_message(p, "(the default policy)"),
		"resource": sprintf("outbound-policy:%s", [_policy_name(p)]),
	}
}

# ---------------------------------------------------------------------------
# The policy that applies to the forwarding recipient: the rule that selects it
# should name the recipient (From), or a group that holds nothing but the
# forwarding recipient(s) (FromMemberOf), not a whole sender domain or a
# wider group.

_applicable_outbound contains [r, res] if {
	some r in _forwarding_routes
	res := scope.applicable("outbound", r.recipient)
}

# Recipients whose forwarding needs the exception: the ones it should cover.
_forwarding_recipients := {r.recipient | some r in _forwarding_routes}

_outbound_rules(name) := [rule |
	some rule in snap.items("Get-HostedOutboundSpamFilterRule")
	rule.Name == name
]

_values(rule, prop) := util.strings(object.get(rule, prop, null))

_scope_text(rule) := concat(" and ", [sprintf("%s %s", [prop, concat(", ", vs)]) |
	some prop in ["From", "FromMemberOf", "SenderDomainIs"]
	vs := _values(rule, prop)
	count(vs) > 0
])

# How the rule's conditions bound the senders it covers. Conditions are
# ANDed, so the narrowest one present decides: From names the senders,
# FromMemberOf a group's members, SenderDomainIs a whole domain.
_scope_kind(rule) := "from" if {
	count(_values(rule, "From")) > 0
} else := "member_of" if {
	count(_values(rule, "FromMemberOf")) > 0
} else := "domain" if {
	count(_values(rule, "SenderDomainIs")) > 0
} else := "none"

# Who may use the exception: On allows forwarding; Automatic may still behave
# as On in organisations that used it before, so its scope matters as much.
_may_forward(p) if _mode(p) in {"on", "automatic"}

_can_forward_text(p) := "can auto-forward externally" if {
	_mode_on(p)
} else := "may be able to auto-forward externally (AutoForwardingMode Automatic may still behave as On)"

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
	not _mode(res.policy)
	f := {
		"status": "indeterminate",
		"message": _unreadable_mode_message(res.policy, sprintf("(%s) applies to %s and", [_selected_by(res), identity.label(r.recipient)])),
		"resource": _resource(r.recipient),
	}
}

_selected_by(res) := "the default policy, no rule matched" if res.rule == null

else := sprintf("selected by rule %q", [res.rule])

# No custom policy for the recipient, and the default policy does not allow
# forwarding either: the exception does not exist (external-forwarding fails).
# When the default policy is On, the finding above already covers it.
findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	res.rule == null
	_mode(res.policy) in {"off", "automatic"}
	f := {
		"status": "fail",
		"message": sprintf("no custom outbound anti-spam policy is scoped to %s: the default policy %q (AutoForwardingMode = %v) applies to it; create a custom policy for this recipient only", [identity.label(r.recipient), _policy_name(res.policy), res.policy.AutoForwardingMode]),
		"resource": _resource(r.recipient),
	}
}

# A policy selected by a rule but Off grants no automatic forwarding to
# anyone the rule covers, however wide the rule is: nothing is opened too
# wide. That the recipient cannot forward either is external-forwarding's
# finding, not this one's.
findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	res.rule != null
	_mode(res.policy) == "off"
	f := {
		"status": "pass",
		"message": sprintf("outbound anti-spam policy %q (AutoForwardingMode = %v), selected by rule %q%s, applies to %s: it allows no automatic external forwarding, so it opens no exception to anyone (external-forwarding reports that the forward to the ticketing address is blocked)", [_policy_name(res.policy), res.policy.AutoForwardingMode, res.rule, _rule_scope_note(res.rule), identity.label(r.recipient)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

_rule_scope_note(name) := sprintf(" (scoped by %s)", [_scope_text(rule)]) if {
	some rule in _outbound_rules(name)
	_scope_kind(rule) != "none"
} else := ""

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	res.rule != null
	_may_forward(res.policy)
	count(_outbound_rules(res.rule)) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("outbound anti-spam rule %q selects policy %q for %s but is not in the Get-HostedOutboundSpamFilterRule output", [res.rule, _policy_name(res.policy), identity.label(r.recipient)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

_custom_intro(res, r) := sprintf("custom outbound anti-spam policy %q (AutoForwardingMode = %v) applies to %s through rule %q", [_policy_name(res.policy), res.policy.AutoForwardingMode, identity.label(r.recipient), res.rule])

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_may_forward(res.policy)
	some rule in _outbound_rules(res.rule)
	_scope_kind(rule) == "from"
	f := {
		"status": "pass",
		"message": sprintf("%s scoped by %s: the forwarding exception is limited to those senders", [_custom_intro(res, r), _scope_text(rule)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

# FromMemberOf covers every member of the group, nested groups included. It
# is as narrow as From only when those members are the forwarding
# recipient(s) and nobody else.
_group_scopes(rule) := [[ref, m, others] |
	some ref in _values(rule, "FromMemberOf")
	m := scope.group_members(ref)
	others := m.members - _forwarding_recipients
]

_list(keys) := concat(", ", array.concat(
	[identity.label(k) | some k in array.slice(ks, 0, 5)],
	[sprintf("and %d more", [count(ks) - 5]) | count(ks) > 5],
)) if {
	ks := sort(keys)
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_may_forward(res.policy)
	some rule in _outbound_rules(res.rule)
	_scope_kind(rule) == "member_of"
	some [ref, m, _] in _group_scopes(rule)
	count(m.unknown) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("%s scoped by FromMemberOf %s, but the membership of %s is not in the snapshot (Get-DistributionGroupMember, nested groups included): cannot tell whether anyone besides %s can auto-forward externally", [_custom_intro(res, r), ref, concat(", ", m.unknown), _list(_forwarding_recipients)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_may_forward(res.policy)
	some rule in _outbound_rules(res.rule)
	_scope_kind(rule) == "member_of"
	some [ref, m, others] in _group_scopes(rule)
	count(m.unknown) == 0
	count(others) > 0
	f := {
		"status": "fail",
		"message": sprintf("%s scoped by FromMemberOf %s, a group with %d members (nested groups included), more than the forwarding recipient(s) %s: besides them it holds %s. Everyone who is or becomes a member of that group %s; scope the rule to the support recipient (From)", [_custom_intro(res, r), ref, count(m.members), _list(_forwarding_recipients), _list(others), _can_forward_text(res.policy)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_may_forward(res.policy)
	some rule in _outbound_rules(res.rule)
	_scope_kind(rule) == "member_of"
	scopes := _group_scopes(rule)
	every sc in scopes {
		count(sc[1].unknown) == 0
		count(sc[2]) == 0
	}
	f := {
		"status": "pass",
		"message": sprintf("%s scoped by %s, whose members are only the forwarding recipient(s) %s: the forwarding exception is limited to those senders", [_custom_intro(res, r), _scope_text(rule), _list(_forwarding_recipients)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_may_forward(res.policy)
	some rule in _outbound_rules(res.rule)
	_scope_kind(rule) == "domain"
	f := {
		"status": "fail",
		"message": sprintf("outbound anti-spam policy %q (AutoForwardingMode = %v) applies to %s through rule %q scoped by SenderDomainIs %s only: every sender in that domain %s; scope the rule to the support recipient (From)", [_policy_name(res.policy), res.policy.AutoForwardingMode, identity.label(r.recipient), res.rule, concat(", ", _values(rule, "SenderDomainIs")), _can_forward_text(res.policy)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

findings contains f if {
	some [r, res] in _applicable_outbound
	res.status == "known"
	_may_forward(res.policy)
	some rule in _outbound_rules(res.rule)
	_scope_kind(rule) == "none"
	f := {
		"status": "fail",
		"message": sprintf("outbound anti-spam policy %q (AutoForwardingMode = %v) applies to %s through rule %q, which has no From, FromMemberOf or SenderDomainIs condition: it is not limited to the support recipient, every sender it covers %s", [_policy_name(res.policy), res.policy.AutoForwardingMode, identity.label(r.recipient), res.rule, _can_forward_text(res.policy)]),
		"resource": sprintf("outbound-rule:%s", [res.rule]),
	}
}

# ---------------------------------------------------------------------------
# The remote domain: a specific one for the ticketing domain, not the Default (*).

_rd_name(rd) := rd.Name if is_string(rd.Name)

else := rd.Identity if is_string(rd.Identity)

else := rd.DomainName

_rd_domain(rd) := lower(trim_space(rd.DomainName)) if is_string(rd.DomainName)

# "*.contoso.com" means "contoso.com and all its subdomains" (New-RemoteDomain -DomainName).
_within(domain, suffix) if domain == suffix

_within(domain, suffix) if endswith(domain, concat("", [".", suffix]))

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

findings contains f if {
	_applies
	missing := snap.unavailable(["Get-RemoteDomain"])
	count(missing) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot tell which remote domain applies to %s: %s", [_ticketing_domain, snap.missing_message(missing)]),
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
	_rd_domain(rd) != "*"
	f := {
		"status": "pass",
		"message": sprintf("%s has its own remote domain %q (DomainName %s, AutoForwardEnabled = %v): the Default (*) remote domain can stay as the baseline wants", [_ticketing_domain, _rd_name(rd), rd.DomainName, object.get(rd, "AutoForwardEnabled", null)]),
		"resource": sprintf("remote-domain:%s", [_rd_name(rd)]),
	}
}

findings contains f if {
	_applies
	snap.collected("Get-RemoteDomain")
	some rd in _rd_best
	_rd_domain(rd) == "*"
	f := {
		"status": "fail",
		"message": sprintf("%s has no remote domain of its own: only the Default remote domain %q (DomainName *, AutoForwardEnabled = %v) matches it, so automatic forwarding to %s is decided by the setting for every external domain; create a remote domain for %s with AutoForwardEnabled = true and keep the Default as the baseline wants", [_ticketing_domain, _rd_name(rd), object.get(rd, "AutoForwardEnabled", null), _ticketing_domain, _ticketing_domain]),
		"resource": sprintf("remote-domain:%s", [_rd_name(rd)]),
	}
}
