# METADATA
# title: The anti-phishing "via" tag is off for the support recipient
# description: >-
#   With the "via" tag on, Exchange Online marks mail whose From domain differs
#   from the signing domain as "<sender> via <domain>". Support mail forwarded
#   to Atera then shows that text, or the forwarding domain, as the sender, so
#   tickets are opened for the wrong requester. The tag must be off in the
#   anti-phishing policy that applies to the support recipient.
# custom:
#   id: via-tag
#   severity: warning
#   source: >-
#     SPEC §1.6, §2 "via tag" and "Which policy applies";
#     Get-AntiPhishPolicy.EnableViaTag (default true), Get-AntiPhishRule
#     (SentTo, SentToMemberOf, RecipientDomainIs, ExceptIf*, Priority, State),
#     Get-EOPProtectionPolicyRule (preset policies)
#   remediation: |-
#     1. Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies >
#        Anti-phishing, open the policy named in the finding > Edit actions > Safety tips &
#        indicators, clear "Show 'via' tag", Save.
#        PowerShell: Set-AntiPhishPolicy -Identity "<policy name>" -EnableViaTag $false
#     2. To keep the tag for everyone else (the CISA SCuBA baseline wants it on), create a
#        policy for the support recipient only instead: Anti-phishing > Create, Users: <support address>,
#        clear "Show 'via' tag".
#        PowerShell:
#          New-AntiPhishPolicy -Name "Atera support" -EnableViaTag $false
#          New-AntiPhishRule -Name "Atera support" -AntiPhishPolicy "Atera support" -SentTo <support address> -Priority 0
#     3. A Standard or Strict preset security policy cannot be edited: exclude <support address>
#        from it (Defender portal > Preset security policies > Manage protection settings >
#        Exclude these recipients) and apply step 2.
#     4. Send a test message to <support address> and check the new Atera ticket's requester.
package ticketguard.checks.via_tag

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.scope
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_recipient_sources := ["Get-Mailbox", "Get-DistributionGroup", "Get-MailContact"]

_resource(key) := sprintf("%s:%s", [r.kind, r.primary]) if {
	r := identity.recipients[key]
} else := key

_policy_name(p) := p.Name if is_string(p.Name)

else := p.Identity if is_string(p.Identity)

else := "(unnamed policy)"

_selected_by(res) := "the default policy, no rule matched" if res.rule == null

else := sprintf("selected by rule %q", [res.rule])

# Preset policies are named "Standard Preset Security Policy1784144689723" and
# cannot be edited; the fix is an exclusion, not a setting.
_preset_note(p) := " It is a preset security policy, which cannot be edited: exclude the support recipient from it and scope a custom anti-phishing policy to it." if {
	scope.is_preset_policy(p)
} else := ""

_intro(key, res) := sprintf("anti-phishing policy %q (%s) applies to %s", [
	_policy_name(res.policy), _selected_by(res), identity.label(key),
])

findings contains f if {
	not snap.support_address
	f := {
		"status": "indeterminate",
		"message": "the Atera primary support address is not declared: declare atera.support_address in the snapshot / config",
	}
}

findings contains f if {
	snap.support_address
	count(route.support_recipients) == 0
	missing := snap.unavailable(_recipient_sources)
	count(missing) > 0
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot find the recipient of %s: %s", [snap.support_address, snap.missing_message(missing)]),
	}
}

findings contains f if {
	snap.support_address
	count(route.support_recipients) == 0
	count(snap.unavailable(_recipient_sources)) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("no mailbox, distribution group or mail contact in the snapshot has the address %s, so the anti-phishing policy that applies to it cannot be determined", [snap.support_address]),
	}
}

_applicable contains [key, res] if {
	some key in route.support_recipients
	res := scope.applicable("antiphish", key)
}

findings contains f if {
	some [key, res] in _applicable
	res.status != "known"
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot tell which anti-phishing policy applies to %s: %s", [identity.label(key), res.reason]),
		"resource": _resource(key),
	}
}

findings contains f if {
	some [key, res] in _applicable
	res.status == "known"
	util.is_false(object.get(res.policy, "EnableViaTag", null))
	f := {
		"status": "pass",
		"message": sprintf("%s and has EnableViaTag = false: tickets show the real sender", [_intro(key, res)]),
		"resource": sprintf("antiphish-policy:%s", [_policy_name(res.policy)]),
	}
}

findings contains f if {
	some [key, res] in _applicable
	res.status == "known"
	util.is_true(object.get(res.policy, "EnableViaTag", null))
	f := {
		"status": "fail",
		"message": sprintf("%s and has EnableViaTag = true: forwarded support mail is shown as \"<sender> via <domain>\" and Atera tickets get the wrong sender.%s", [_intro(key, res), _preset_note(res.policy)]),
		"resource": sprintf("antiphish-policy:%s", [_policy_name(res.policy)]),
	}
}

# EnableViaTag defaults to true: a policy that does not say otherwise shows the tag.
findings contains f if {
	some [key, res] in _applicable
	res.status == "known"
	v := object.get(res.policy, "EnableViaTag", null)
	not util.is_true(v)
	not util.is_false(v)
	f := {
		"status": "fail",
		"message": sprintf("%s and has EnableViaTag = %s: forwarded support mail is shown as \"<sender> via <domain>\" and Atera tickets get the wrong sender.%s", [_intro(key, res), _shown(v), _preset_note(res.policy)]),
		"resource": sprintf("antiphish-policy:%s", [_policy_name(res.policy)]),
	}
}

_shown(v) := "null (not set; the default is true)" if v == null

else := sprintf("%v (not a boolean; taken as the default, true)", [v])
