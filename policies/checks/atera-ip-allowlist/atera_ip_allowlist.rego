# METADATA
# title: Atera's sending IP addresses on the connection filter allow list
# description: |-
#   With custom SMTP, Atera asks for its sending servers to be allowed on the
#   mail server. In Exchange Online that is the IP allow list of the connection
#   filter policy. Without it, mail from Atera's servers into the tenant (test
#   e-mails, replies to the organisation's own users) can be filtered as spam
#   or quarantined, and technicians miss it. Only Atera's ranges should be
#   added: allowed IPs skip spam filtering.
# custom:
#   id: atera-ip-allowlist
#   severity: warning
#   source: "SPEC §1.8, §2 allow list; Get-HostedConnectionFilterPolicy.IPAllowList; data.ticketguard.facts.atera"
#   remediation: |-
#     1. Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies >
#        Anti-spam > Connection filter policy (Default) > Edit connection filter >
#        Always allow messages from the following IP addresses or address range: add each
#        range the finding lists as missing. Exchange Online accepts only /24 to /32 entries,
#        so enter Atera's narrow list, not the /16s.
#     2. Or in Exchange Online PowerShell (the finding prints the line with the missing ranges):
#        Set-HostedConnectionFilterPolicy -Identity Default -IPAllowList @{Add="<range>","<range>"}
#     3. Remove entries the finding reports as invalid:
#        Set-HostedConnectionFilterPolicy -Identity Default -IPAllowList @{Remove="<entry>"}
package ticketguard.checks.atera_ip_allowlist

import data.ticketguard.lib.ipnet
import data.ticketguard.lib.smtp
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_cmdlet := "Get-HostedConnectionFilterPolicy"

findings contains smtp.not_custom_finding

findings contains f if {
	smtp.custom
	not snap.collected(_cmdlet)
	f := {
		"status": "indeterminate",
		"message": sprintf("cannot read the IP allow list: %s", [snap.missing_message([_cmdlet])]),
		"resource": "hosted-connection-filter-policy",
	}
}

findings contains f if {
	smtp.custom
	snap.collected(_cmdlet)
	count(_policies) == 0
	f := {
		"status": "indeterminate",
		"message": sprintf("%s returned no policy (every tenant has the \"Default\" one): the IP allow list cannot be read", [_cmdlet]),
		"resource": "hosted-connection-filter-policy",
	}
}

findings contains f if {
	_evaluable
	_covered
	f := {
		"status": "pass",
		"message": sprintf("the connection filter IP allow list (Get-HostedConnectionFilterPolicy IPAllowList) covers Atera's senders (%s): %s%s", [_covered_text, _allow_text, _invalid_text]),
		"resource": _resource,
	}
}

findings contains f if {
	_evaluable
	not _covered
	f := {
		"status": "fail",
		"message": sprintf(
			"the connection filter IP allow list (Get-HostedConnectionFilterPolicy IPAllowList) does not cover Atera's senders: missing %s of Atera's list %s; %s; allow list: %s%s. Exchange Online accepts only /24 to /32 entries, so the narrow list is the one to enter: Set-HostedConnectionFilterPolicy -Identity %s -IPAllowList @{Add=%s}",
			[
				concat(", ", _missing_narrow), _narrow_text, _wide_text, _allow_text, _invalid_text,
				_target_policy, concat(",", [sprintf("%q", [r]) | some r in _missing_narrow]),
			],
		),
		"resource": _resource,
	}
}

_evaluable if {
	smtp.custom
	snap.collected(_cmdlet)
	count(_policies) > 0
}

_policies := [p | some p in snap.items(_cmdlet); is_object(p)]

# --- the allow list --------------------------------------------------------

# _entries is the union of every policy's IPAllowList (normally only "Default"
# exists), trimmed.
_entries := {trim_space(e) |
	some p in _policies
	some e in util.strings(object.get(p, "IPAllowList", []))
}

# Entries that are not an IPv4 address, a-b range or CIDR (IPv6, host names,
# typos) are reported and not counted.
_invalid := ipnet.invalid_entries(_entries)

_valid_list := sort(_entries - _invalid)

# --- coverage --------------------------------------------------------------

_wide := [r | some r in smtp.facts.atera.sender_ranges]

_narrow := [r | some r in smtp.facts.atera.sender_ranges_narrow]

_missing_wide := [r | some r in _wide; not ipnet.covers(_valid_list, r)]

_missing_narrow := [r | some r in _narrow; not ipnet.covers(_valid_list, r)]

# Either list, whole, is enough: the /16s where they can be entered, otherwise
# every narrow entry (several allow list entries may together cover one).
_covered if {
	count(_wide) > 0
	count(_missing_wide) == 0
}

_covered if {
	count(_narrow) > 0
	count(_missing_narrow) == 0
}

# --- messages --------------------------------------------------------------

_covered_text := sprintf("every range of %s", [concat(", ", _wide)]) if {
	count(_wide) > 0
	count(_missing_wide) == 0
} else := sprintf("every range of %s", [concat(", ", _narrow)])

_narrow_text := sprintf("(%s)", [concat(", ", _narrow)])

_wide_text := sprintf("Atera's /16s %s are not covered either", [concat(", ", _wide)]) if {
	count(_missing_wide) == count(_wide)
} else := sprintf("of Atera's /16s, %s are not covered", [concat(", ", _missing_wide)])

_allow_text := concat("; ", [sprintf("%q %s", [_name(p), _list_text(p)]) | some p in _policies])

_list_text(p) := "[] (empty)" if {
	count(util.strings(object.get(p, "IPAllowList", []))) == 0
} else := sprintf("[%s]", [concat(", ", util.strings(p.IPAllowList))])

_invalid_text := "" if {
	count(_invalid) == 0
} else := sprintf("; entries that are not an IPv4 address, range or CIDR and were ignored: %s", [concat(", ", sort(_invalid))])

_name(p) := names[0] if {
	names := [n | some field in ["Name", "Identity"]; n := p[field]; is_string(n); n != ""]
	count(names) > 0
} else := "(no name)"

# The policy to add the ranges to: Default, where connection filtering is set.
_target_policy := "Default"

_resource := sprintf("hosted-connection-filter-policy:%s", [concat(",", sort({_name(p) | some p in _policies}))])
