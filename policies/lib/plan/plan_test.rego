package ticketguard.lib.plan_test

import data.ticketguard.lib.plan

# --- fixtures --------------------------------------------------------------
# Raw shapes as the admin API returns them (SPEC §3): GUID identities, SMTP:
# prefixes, null for empty rule conditions and forwarding.

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Identity": "Atera Ticketing",
	"Guid": "5b1c2f9e-0a51-4c44-9d0e-5f1f4f0b6a11",
	"ExternalEmailAddress": "SMTP:Acme@Ticketing.Atera.com",
	"PrimarySmtpAddress": "ateraticketing@acme.com",
	"EmailAddresses": ["SMTP:ateraticketing@acme.com"],
	"LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=4f1e-atera",
}

_mailbox(name, guid, addr, extra) := object.union(
	{
		"Name": name,
		"Alias": name,
		"DisplayName": name,
		"Identity": guid,
		"ExternalDirectoryObjectId": guid,
		"PrimarySmtpAddress": addr,
		"EmailAddresses": [concat("", ["SMTP:", addr])],
		"LegacyExchangeDN": concat("", ["/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=", name]),
		"ForwardingAddress": null,
		"ForwardingSmtpAddress": null,
		"DeliverToMailboxAndForward": false,
		"RecipientTypeDetails": "UserMailbox",
	},
	extra,
)

_support_mbx(extra) := _mailbox("support", "0c3f4b1e-7a1d-4a57-9f0b-8f6f8a0e2d01", "support@acme.com", extra)

# bob forwards nothing, so the -Filter "ForwardingAddress -ne $null ..." of
# round 1 leaves him out of Get-Mailbox.
_bob := _mailbox("bob", "7d2a9c40-3b8e-4f0e-9a51-2c6e0d4b9f02", "bob@acme.com", {})

_alice := _mailbox("alice", "a11ce000-1111-4222-8333-944455556666", "alice@acme.com", {})

_group(name, guid, addr) := {
	"Name": name,
	"DisplayName": name,
	"Identity": name,
	"ExternalDirectoryObjectId": guid,
	"PrimarySmtpAddress": addr,
	"EmailAddresses": [concat("", ["SMTP:", addr])],
	"RecipientTypeDetails": "MailUniversalDistributionGroup",
}

_support_group := _group("Support", "9e7b1a22-6c3d-4e5f-8a9b-0c1d2e3f4a5b", "support@acme.com")

_staff_group := _group("Staff", "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", "staff@acme.com")

_forwarders_group := _group("Forwarders", "f0f0f0f0-1234-4abc-8def-0123456789ab", "forwarders@acme.com")

_input(exchange) := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "Support@acme.com",
			"smtp": null,
		},
		"exchange": object.union(
			{
				"Get-Mailbox": [],
				"Get-DistributionGroup": [],
				"Get-MailContact": [_contact],
				"Get-TransportRule": [],
			},
			exchange,
		),
	},
}

_with(inp, patch) := object.union(inp, patch)

_empty := {
	"group_members": [],
	"inbox_rules": [],
	"mailboxes": [],
	"recipient_permissions": [],
	"cas_mailboxes": [],
}

_wants(inp) := w if {
	w := plan.wants with input as inp with data.ticketguard.facts as {"atera": {"ticketing_domain": "ticketing.atera.com"}}
}

# --- shape -----------------------------------------------------------------

test_wants_empty_snapshot_has_every_key if _wants({"snapshot": {}}) == _empty

test_wants_nothing_without_atera_section if {
	inp := {"snapshot": {"exchange": {"Get-Mailbox": [_support_mbx({})], "Get-MailContact": [_contact]}}}
	_wants(inp) == _empty
}

# --- two-hop chain: two rounds ---------------------------------------------
# support forwards (ForwardingAddress, by name) to bob; bob is not in the
# filtered Get-Mailbox and has an inbox rule redirecting to Atera.

_round1 := _input({"Get-Mailbox": [_support_mbx({"ForwardingAddress": "bob", "DeliverToMailboxAndForward": true})]})

_bob_rule := {
	"Name": "to Atera",
	"Identity": "7d2a9c40-3b8e-4f0e-9a51-2c6e0d4b9f02\\17654776190729142273",
	"Enabled": true,
	"ForwardTo": null,
	"RedirectTo": [`"Atera Ticketing" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=4f1e-atera]`],
	"ForwardAsAttachmentTo": null,
}

_round2 := _with(_round1, {"snapshot": {
	"exchange": {
		"Get-Mailbox": [_support_mbx({"ForwardingAddress": "bob", "DeliverToMailboxAndForward": true}), _bob],
		"Get-InboxRule": {"support@acme.com": []},
	},
	"collection": {"requests": 9},
}})

_round3 := _with(_round2, {"snapshot": {"exchange": {"Get-InboxRule": {"support@acme.com": [], "bob@acme.com": [_bob_rule]}}}})

test_two_hop_chain_round1_wants_support_rules_and_bob if {
	w := _wants(_round1)
	w.inbox_rules == ["support@acme.com"]
	w.mailboxes == ["bob"]
	w.group_members == []
}

test_two_hop_chain_round2_wants_bob_rules if {
	w := _wants(_round2)
	w == object.union(_empty, {"inbox_rules": ["bob@acme.com"]})
}

test_two_hop_chain_round3_converged if _wants(_round3) == _empty

# The same chain with Graph inbox rules instead of Get-InboxRule.
test_graph_message_rules_count_as_present if {
	inp := _with(_round1, {"snapshot": {
		"exchange": {"Get-Mailbox": [_support_mbx({"ForwardingAddress": "bob"}), _bob]},
		"graph": {"messageRules": {"support@acme.com": [], "bob@acme.com": [{
			"displayName": "to Atera",
			"isEnabled": true,
			"actions": {"redirectTo": [{"emailAddress": {"name": "Atera", "address": "acme@ticketing.atera.com"}}]},
		}]}},
	}})
	_wants(inp) == _empty
}

# --- convergence on failures -----------------------------------------------

test_failed_inbox_rule_fetch_is_not_asked_again if {
	inp := _with(_round2, {"snapshot": {"errors": [{
		"source": "graph:messageRules",
		"message": "GET /users/Bob@acme.com/mailFolders/inbox/messageRules: 404 ErrorItemNotFound",
	}]}})
	_wants(inp) == _empty
}

test_failed_exchange_inbox_rule_fetch_is_not_asked_again if {
	inp := _with(_round2, {"snapshot": {"errors": [{
		"source": "Get-InboxRule",
		"message": "The operation couldn't be performed because 'bob@acme.com' couldn't be found.",
	}]}})
	_wants(inp) == _empty
}

test_error_for_another_address_does_not_count if {
	inp := _with(_round2, {"snapshot": {"errors": [{
		"source": "Get-InboxRule",
		"message": "The operation couldn't be performed because 'carol@acme.com' couldn't be found.",
	}]}})
	_wants(inp).inbox_rules == ["bob@acme.com"]
}

test_error_of_another_source_does_not_count if {
	inp := _with(_round2, {"snapshot": {"errors": [{
		"source": "Get-DistributionGroupMember",
		"message": "bob@acme.com: Access denied",
	}]}})
	_wants(inp).inbox_rules == ["bob@acme.com"]
}

# A failure naming no address is a failure of the whole source (403 for the
# app): asking for another mailbox would fail the same way.
test_whole_source_failure_stops_asking if {
	inp := _with(_round2, {"snapshot": {"errors": [{"source": "graph:messageRules", "message": "403 Forbidden: Access is denied. Check credentials and try again."}]}})
	_wants(inp).inbox_rules == []
}

test_failed_mailbox_lookup_is_not_asked_again if {
	inp := _with(_round1, {"snapshot": {"errors": [{"source": "Get-Mailbox", "message": "The operation couldn't be performed because object 'Bob' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'."}]}})
	_wants(inp).mailboxes == []
}

# An unnamed Get-Mailbox error is about round 1 (Get-Mailbox not collected), so
# no lookup is asked at all; it never stands for one reference.
test_get_mailbox_errored_asks_no_lookup if {
	inp := _with(_round1, {"snapshot": {"errors": [{"source": "Get-Mailbox", "message": "Access denied"}]}})
	_wants(inp).mailboxes == []
}

test_not_found_lookup_is_not_asked_again if {
	inp := _with(_round1, {"snapshot": {"collection": {"not_found": {"mailboxes": ["Bob"]}}}})
	w := _wants(inp)
	w.mailboxes == []
	w.inbox_rules == ["support@acme.com"]
}

# --- groups ------------------------------------------------------------------

_group_round1 := _input({
	"Get-DistributionGroup": [_support_group, _staff_group],
	"Get-Mailbox": [],
})

test_support_group_members_wanted if {
	w := _wants(_group_round1)
	w.group_members == ["support@acme.com"]
	w.inbox_rules == []
}

# Members: the contact, alice (a mailbox the forwarding filter left out) and
# the nested group Staff.
_group_round2 := _with(_group_round1, {"snapshot": {"exchange": {"Get-DistributionGroupMember": {"support@acme.com": [
	{"Name": "Atera Ticketing", "Identity": "Atera Ticketing", "PrimarySmtpAddress": "ateraticketing@acme.com", "RecipientType": "MailContact", "RecipientTypeDetails": "MailContact"},
	{"Name": "alice", "Identity": "a11ce000-1111-4222-8333-944455556666", "PrimarySmtpAddress": "alice@acme.com", "RecipientType": "UserMailbox", "RecipientTypeDetails": "UserMailbox"},
	{"Name": "Staff", "Identity": "Staff", "PrimarySmtpAddress": "staff@acme.com", "RecipientType": "MailUniversalDistributionGroup"},
]}}}})

test_group_members_follow_nested_group_and_member_mailbox if {
	w := _wants(_group_round2)
	w.group_members == ["staff@acme.com"]
	w.mailboxes == ["alice@acme.com"]

	# A member row that says it is a mailbox: its rules in the same round.
	w.inbox_rules == ["alice@acme.com"]
}

test_group_round3_converged if {
	inp := _with(_group_round2, {"snapshot": {"exchange": {
		"Get-Mailbox": [_alice],
		"Get-InboxRule": {"alice@acme.com": []},
		"Get-DistributionGroupMember": {"staff@acme.com": []},
	}}})
	_wants(inp) == _empty
}

test_graph_group_members_count_as_present if {
	inp := _with(_group_round1, {"snapshot": {"graph": {"groupMembers": {"support@acme.com": []}}}})
	_wants(inp).group_members == []
}

# Members read through Graph are followed like Exchange's rows: the member
# mailbox's inbox rules and the nested group's members are wanted.
test_graph_group_members_followed if {
	inp := _with(_group_round1, {"snapshot": {"graph": {"groupMembers": {"support@acme.com": [
		{"@odata.type": "#microsoft.graph.orgContact", "id": "c0ffee00-0000-4000-8000-000000000001", "displayName": "Atera Ticketing", "mail": "ateraticketing@acme.com"},
		{"@odata.type": "#microsoft.graph.user", "id": "a11ce000-1111-4222-8333-944455556666", "displayName": "alice", "mail": "alice@acme.com"},
		{"@odata.type": "#microsoft.graph.group", "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", "displayName": "Staff", "mail": "staff@acme.com"},
	]}}}})
	w := _wants(inp)
	w.group_members == ["staff@acme.com"]
	w.mailboxes == ["alice@acme.com"]
}

test_failed_group_members_not_asked_again if {
	inp := _with(_group_round1, {"snapshot": {"errors": [{"source": "Get-DistributionGroupMember", "message": "support@acme.com: The operation couldn't be performed"}]}})
	_wants(inp).group_members == []
}

# --- paths: what is on one and what is not ----------------------------------

test_mailbox_off_the_path_is_not_wanted if {
	dave := _mailbox("dave", "d0d0d0d0-0000-4000-8000-000000000001", "dave@acme.com", {"ForwardingSmtpAddress": "smtp:dave@gmail.com"})
	inp := _input({"Get-Mailbox": [_support_mbx({"ForwardingAddress": "Atera Ticketing", "DeliverToMailboxAndForward": true}), dave]})
	w := _wants(inp)
	w.inbox_rules == ["support@acme.com"]
	w.mailboxes == []
}

test_external_forwarding_target_is_not_looked_up if {
	inp := _input({"Get-Mailbox": [_support_mbx({"ForwardingSmtpAddress": "smtp:Helpdesk@Gmail.com"})]})
	_wants(inp).mailboxes == []
}

test_forwarding_smtp_address_at_tenant_domain_is_looked_up if {
	inp := _input({"Get-Mailbox": [_support_mbx({"ForwardingSmtpAddress": "smtp:Carol@Acme.com"})]})
	_wants(inp).mailboxes == ["carol@acme.com"]
}

test_accepted_domain_counts_as_tenant_domain if {
	inp := _input({
		"Get-Mailbox": [_support_mbx({"ForwardingSmtpAddress": "smtp:desk@acme-help.net"})],
		"Get-AcceptedDomain": [{"DomainName": "acme-help.net", "DomainType": "Authoritative"}],
	})
	_wants(inp).mailboxes == ["desk@acme-help.net"]
}

# The walk stops at the ticketing address: the contact is a target, not a
# mailbox, and nothing past it is wanted.
test_ticketing_address_is_never_looked_up if {
	inp := _input({
		"Get-Mailbox": [_support_mbx({"ForwardingSmtpAddress": "smtp:acme@ticketing.atera.com"})],
		"Get-MailContact": [],
	})
	w := _wants(inp)
	w.mailboxes == []
	w.inbox_rules == ["support@acme.com"]
}

# Inbox rule targets on the path: an EX: reference to a mailbox the filter
# left out is wanted as a mailbox.
test_inbox_rule_target_unresolved_is_looked_up if {
	inp := _input({
		"Get-Mailbox": [_support_mbx({})],
		"Get-InboxRule": {"support@acme.com": [{
			"Name": "to helpdesk",
			"Enabled": true,
			"ForwardTo": [`"Help Desk" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=9a8b-helpdesk]`],
			"RedirectTo": null,
			"ForwardAsAttachmentTo": null,
		}]},
	})
	w := _wants(inp)
	w.mailboxes == ["/o=exchangelabs/ou=exchange administrative group (fydibohf23spdlt)/cn=recipients/cn=9a8b-helpdesk"]
	w.inbox_rules == []
}

test_disabled_inbox_rule_target_is_not_on_the_path if {
	inp := _input({
		"Get-Mailbox": [_support_mbx({})],
		"Get-InboxRule": {"support@acme.com": [{"Name": "old", "Enabled": false, "ForwardTo": ["SMTP:carol@acme.com"], "RedirectTo": null}]},
	})
	_wants(inp).mailboxes == []
}

# Transport-rule fallback: the support mailbox does not forward, so the
# filtered Get-Mailbox does not have it.
test_support_address_held_by_nobody_is_looked_up if {
	inp := _input({"Get-TransportRule": [{
		"Name": "Support to Atera",
		"State": "Enabled",
		"Mode": "Enforce",
		"Priority": 0,
		"SentTo": ["support@acme.com"],
		"RedirectMessageTo": ["Atera Ticketing"],
	}]})
	w := _wants(inp)
	w.mailboxes == ["support@acme.com"]
	w.inbox_rules == []
}

test_support_lookup_once_answered_not_found_converges if {
	inp := _with(_input({}), {"snapshot": {"collection": {"not_found": {"mailboxes": ["support@acme.com"]}}}})
	_wants(inp) == _empty
}

test_no_mailbox_lookup_without_get_mailbox if {
	inp := _with(_round1, {"snapshot": {"exchange": {"Get-Mailbox": null}}})
	_wants(inp).mailboxes == []
}

# --- scope: *MemberOf groups -----------------------------------------------

_outbound_policies := [
	{"Name": "Default", "Identity": "Default", "IsDefault": true, "AutoForwardingMode": "Automatic"},
	{"Name": "Allow forwarding", "Identity": "Allow forwarding", "IsDefault": false, "AutoForwardingMode": "On"},
]

_member_of_rule(state, priority) := {
	"Name": "Forwarders",
	"State": state,
	"Priority": priority,
	"HostedOutboundSpamFilterPolicy": "Allow forwarding",
	"From": null,
	"FromMemberOf": ["Forwarders"],
	"SenderDomainIs": null,
}

_scope_input(rules) := _input({
	"Get-Mailbox": [_support_mbx({"ForwardingAddress": "Atera Ticketing", "DeliverToMailboxAndForward": true})],
	"Get-DistributionGroup": [_forwarders_group],
	"Get-HostedOutboundSpamFilterPolicy": _outbound_policies,
	"Get-HostedOutboundSpamFilterRule": rules,
	"Get-InboxRule": {"support@acme.com": []},
})

test_scope_member_of_group_wanted_while_undecided if {
	w := _wants(_scope_input([_member_of_rule("Enabled", 0)]))
	w.group_members == ["forwarders@acme.com"]
	w.inbox_rules == []
}

test_scope_disabled_rule_group_not_wanted if {
	_wants(_scope_input([_member_of_rule("Disabled", 0)])).group_members == []
}

# A higher-priority rule naming the support mailbox decides: the group below
# it cannot change the answer.
test_scope_decided_by_earlier_rule_group_not_wanted if {
	by_name := {
		"Name": "Support",
		"State": "Enabled",
		"Priority": 0,
		"HostedOutboundSpamFilterPolicy": "Allow forwarding",
		"From": ["support@acme.com"],
		"FromMemberOf": null,
	}
	_wants(_scope_input([by_name, _member_of_rule("Enabled", 1)])).group_members == []
}

test_scope_nested_group_wanted_once_parent_known if {
	inp := _with(_scope_input([_member_of_rule("Enabled", 0)]), {"snapshot": {"exchange": {
		"Get-DistributionGroup": [_forwarders_group, _staff_group],
		"Get-DistributionGroupMember": {"forwarders@acme.com": [{"Name": "Staff", "PrimarySmtpAddress": "staff@acme.com", "RecipientType": "MailUniversalDistributionGroup"}]},
	}}})
	_wants(inp).group_members == ["staff@acme.com"]
}

test_scope_converged_when_membership_known if {
	inp := _with(_scope_input([_member_of_rule("Enabled", 0)]), {"snapshot": {"exchange": {"Get-DistributionGroupMember": {"forwarders@acme.com": [{"Name": "support", "PrimarySmtpAddress": "support@acme.com", "RecipientType": "UserMailbox"}]}}}})
	_wants(inp) == _empty
}

test_antiphish_sent_to_member_of_group_wanted if {
	inp := _input({
		"Get-DistributionGroup": [_support_group, _forwarders_group],
		"Get-DistributionGroupMember": {"support@acme.com": [{"Name": "Atera Ticketing", "PrimarySmtpAddress": "ateraticketing@acme.com", "RecipientType": "MailContact"}]},
		"Get-AntiPhishPolicy": [{"Name": "Office365 AntiPhish Default", "Identity": "Office365 AntiPhish Default", "IsDefault": true, "Enabled": true, "EnableViaTag": true}, {"Name": "No via", "Identity": "No via", "IsDefault": false, "Enabled": true, "EnableViaTag": false}],
		"Get-AntiPhishRule": [{"Name": "No via", "State": "Enabled", "Priority": 0, "AntiPhishPolicy": "No via", "SentTo": null, "SentToMemberOf": ["forwarders@acme.com"], "RecipientDomainIs": null}],
	})
	_wants(inp).group_members == ["forwarders@acme.com"]
}

# --- custom SMTP -------------------------------------------------------------

_smtp_input(s, exchange) := _with(
	_input(object.union({"Get-Mailbox": [_support_mbx({"ForwardingAddress": "Atera Ticketing", "DeliverToMailboxAndForward": true})], "Get-InboxRule": {"support@acme.com": []}}, exchange)),
	{"snapshot": {"atera": {"smtp": s}}},
)

_o365 := {"server": "smtp.office365.com", "port": 587, "ssl": true, "username": "Helpdesk@Acme.com"}

test_smtp_user_wants_permissions_cas_and_mailbox if {
	w := _wants(_smtp_input(_o365, {}))
	w.recipient_permissions == ["support@acme.com"]
	w.cas_mailboxes == ["helpdesk@acme.com"]
	w.mailboxes == ["helpdesk@acme.com"]
}

test_smtp_user_is_support_no_permissions if {
	w := _wants(_smtp_input(object.union(_o365, {"username": "SUPPORT@acme.com"}), {}))
	w.recipient_permissions == []
	w.cas_mailboxes == ["support@acme.com"]
	w.mailboxes == []
}

test_smtp_null_wants_nothing_for_smtp if {
	w := _wants(_smtp_input(null, {}))
	w == _empty
}

test_smtp_elsewhere_wants_nothing if {
	w := _wants(_smtp_input({"server": "smtp.gmail.com", "port": 587, "username": "acme.helpdesk@gmail.com"}, {}))
	w == _empty
}

test_smtp_converged_when_collected if {
	helpdesk := _mailbox("helpdesk", "12216464-9f04-499d-b987-ca402361f2d6", "helpdesk@acme.com", {})
	inp := _smtp_input(_o365, {
		"Get-Mailbox": [_support_mbx({"ForwardingAddress": "Atera Ticketing", "DeliverToMailboxAndForward": true}), helpdesk],
		"Get-CASMailbox": [{"Identity": "12216464-9f04-499d-b987-ca402361f2d6", "Name": "helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com", "SmtpClientAuthenticationDisabled": null}],
		"Get-RecipientPermission": [{"Trustee": "helpdesk@acme.com", "AccessRights": ["SendAs"], "AccessControlType": "Allow"}],
	})
	_wants(inp) == _empty
}

# Signing in with a UPN that is not an address of the mailbox: once the mailbox
# is known, its CAS row is found by the mailbox's primary address.
test_smtp_cas_row_found_through_resolved_mailbox if {
	helpdesk := _mailbox("helpdesk", "12216464-9f04-499d-b987-ca402361f2d6", "helpdesk@acme.com", {"UserPrincipalName": "hd.sender@acme.onmicrosoft.com"})
	inp := _smtp_input(object.union(_o365, {"username": "hd.sender@acme.onmicrosoft.com"}), {
		"Get-Mailbox": [_support_mbx({"ForwardingAddress": "Atera Ticketing"}), helpdesk],
		"Get-CASMailbox": [{"Identity": "12216464-9f04-499d-b987-ca402361f2d6", "PrimarySmtpAddress": "helpdesk@acme.com"}],
	})
	w := _wants(inp)
	w.cas_mailboxes == []
	w.mailboxes == []
	w.recipient_permissions == ["support@acme.com"]
}

test_smtp_failed_fetches_converge if {
	inp := _with(_smtp_input(_o365, {}), {"snapshot": {"errors": [
		{"source": "Get-CASMailbox", "message": "helpdesk@acme.com: The operation couldn't be performed because object couldn't be found"},
		{"source": "Get-RecipientPermission", "message": "Access denied (403)"},
		{"source": "Get-Mailbox", "message": "object 'helpdesk@acme.com' couldn't be found"},
	]}})
	_wants(inp) == _empty
}

# --- helpers -----------------------------------------------------------------

test_reached_stops_at_the_ticketing_contact if {
	r := plan.reached with input as _round3
	r == {"mailbox:0c3f4b1e-7a1d-4a57-9f0b-8f6f8a0e2d01", "mailbox:7d2a9c40-3b8e-4f0e-9a51-2c6e0d4b9f02", "contact:5b1c2f9e-0a51-4c44-9d0e-5f1f4f0b6a11"}
}

test_tenant_domains if {
	d := plan.tenant_domains with input as _round2 with data.ticketguard.facts as {"atera": {"ticketing_domain": "ticketing.atera.com"}}
	d == {"acme.com"}
}
