package ticketguard.lib.route_test

import data.ticketguard.lib.route

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Guid": "c-guid",
	"ExternalEmailAddress": "SMTP:Acme@Ticketing.Atera.com",
	"PrimarySmtpAddress": "ateraticketing@acme.com",
	"EmailAddresses": ["SMTP:ateraticketing@acme.com"],
}

_other_contact := {
	"Name": "Vendor",
	"Guid": "v-guid",
	"ExternalEmailAddress": "SMTP:help@vendor.com",
	"PrimarySmtpAddress": "help@vendor.com",
}

_group := {
	"Name": "support",
	"DisplayName": "Support",
	"Guid": "g-guid",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com"],
}

_mailbox(fwd) := object.union(
	{
		"Name": "support",
		"DisplayName": "Support",
		"Guid": "m-guid",
		"PrimarySmtpAddress": "support@acme.com",
		"EmailAddresses": ["SMTP:support@acme.com"],
		"LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc-support",
		"ForwardingAddress": null,
		"ForwardingSmtpAddress": null,
		"DeliverToMailboxAndForward": true,
	},
	fwd,
)

_alice := {
	"Name": "alice",
	"DisplayName": "Alice",
	"Guid": "a-guid",
	"PrimarySmtpAddress": "alice@acme.com",
	"LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc-alice",
	"ForwardingAddress": null,
	"ForwardingSmtpAddress": null,
}

_snapshot(exchange) := {"snapshot": {
	"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "Support@acme.com"},
	"exchange": object.union(
		{
			"Get-MailContact": [_contact, _other_contact],
			"Get-Mailbox": [],
			"Get-DistributionGroup": [],
			"Get-TransportRule": [],
		},
		exchange,
	),
}}

_group_input := _snapshot({
	"Get-DistributionGroup": [_group],
	"Get-DistributionGroupMember": {"support@acme.com": [
		{"Name": "alice", "PrimarySmtpAddress": "alice@acme.com"},
		{"Name": "Atera Ticketing", "Identity": "Atera Ticketing", "PrimarySmtpAddress": "ateraticketing@acme.com"},
	]},
	"Get-Mailbox": [_alice],
})

test_ticketing_contacts if {
	route.ticketing_contacts == {"contact:c-guid"} with input as _group_input
}

test_ticketing_contacts_needs_declared_address if {
	i := json.remove(_group_input, ["snapshot/atera/ticketing_address"])
	route.ticketing_contacts == set() with input as i
}

test_support_recipients_by_kind if {
	route.support_recipients == {"group:g-guid"} with input as _group_input
	route.support_recipient_keys_by_kind == {"mailbox": set(), "group": {"group:g-guid"}, "contact": set()} with input as _group_input
}

test_route_group if {
	route.routes == {{
		"method": "group",
		"recipient": "group:g-guid",
		"detail": `group "Support" <support@acme.com> has member contact "Atera Ticketing" <ateraticketing@acme.com>`,
	}} with input as _group_input
	route.method == "group" with input as _group_input
	route.forwarding_recipient == "group:g-guid" with input as _group_input
}

test_route_group_member_by_guid_only if {
	i := _snapshot({
		"Get-DistributionGroup": [_group],
		"Get-DistributionGroupMember": {"support@acme.com": [{"Guid": "c-guid"}]},
	})
	route.method == "group" with input as i
}

test_no_route_group_without_contact_member if {
	i := _snapshot({
		"Get-DistributionGroup": [_group],
		"Get-DistributionGroupMember": {"support@acme.com": [{"Name": "Vendor", "PrimarySmtpAddress": "help@vendor.com"}]},
	})
	route.routes == set() with input as i
	not route.method with input as i
	route.missing_sources == set() with input as i
}

test_group_members_not_collected_is_missing if {
	i := _snapshot({"Get-DistributionGroup": [_group]})
	route.routes == set() with input as i
	route.missing_sources == {"Get-DistributionGroupMember"} with input as i
	route.missing_message == "Get-DistributionGroupMember was not collected" with input as i
}

test_support_group_members_absent_from_collected_cmdlet if {
	i := _snapshot({
		"Get-DistributionGroup": [_group],
		"Get-DistributionGroupMember": {"other@acme.com": []},
	})
	route.missing_sources == {"Get-DistributionGroupMember"} with input as i
	route.missing_message == "Get-DistributionGroupMember for support@acme.com was not collected" with input as i
}

test_route_mailbox_forwarding_address_every_form if {
	refs := [
		"Atera Ticketing",
		"c-guid",
		"ateraticketing@acme.com",
		"acme@ticketing.atera.com",
		"SMTP:ACME@ticketing.atera.com",
	]
	every ref in refs {
		r := route.routes with input as _snapshot({"Get-Mailbox": [_mailbox({"ForwardingAddress": ref})]})
		[x.method | some x in r] == ["mailbox"]
	}
}

test_route_mailbox_detail if {
	i := _snapshot({"Get-Mailbox": [_mailbox({"ForwardingAddress": "Atera Ticketing"})]})
	route.routes == {{
		"method": "mailbox",
		"recipient": "mailbox:m-guid",
		"detail": `mailbox "Support" <support@acme.com> forwards to contact "Atera Ticketing" <ateraticketing@acme.com> (ForwardingAddress "Atera Ticketing")`,
	}} with input as i
	route.forwarding_recipient == "mailbox:m-guid" with input as i
}

test_route_mailbox_forwarding_smtp_address if {
	i := _snapshot({"Get-Mailbox": [_mailbox({"ForwardingSmtpAddress": "smtp:ACME@ticketing.atera.com"})]})
	route.method == "mailbox" with input as i
}

test_route_mailbox_smtp_without_contact if {
	i := _snapshot({
		"Get-MailContact": [],
		"Get-Mailbox": [_mailbox({"ForwardingSmtpAddress": "smtp:acme@ticketing.atera.com"})],
	})
	route.method == "mailbox" with input as i
}

test_no_route_forwarding_address_wins_over_smtp if {
	i := _snapshot({"Get-Mailbox": [_mailbox({
		"ForwardingAddress": "Vendor",
		"ForwardingSmtpAddress": "smtp:acme@ticketing.atera.com",
	})]})
	route.routes == set() with input as i
}

test_no_route_forwarding_elsewhere if {
	i := _snapshot({"Get-Mailbox": [_mailbox({"ForwardingSmtpAddress": "smtp:someone@gmail.com"})]})
	route.routes == set() with input as i
}

test_no_route_same_name_different_form if {
	# A mailbox forwarding to a *mailbox* called "Atera Ticketing" is not the contact.
	i := _snapshot({
		"Get-MailContact": [],
		"Get-Mailbox": [
			_mailbox({"ForwardingAddress": "Atera Ticketing"}),
			{"Name": "Atera Ticketing", "Guid": "x-guid", "PrimarySmtpAddress": "atera@acme.com"},
		],
	})
	route.routes == set() with input as i
}

_rule(over) := object.union(
	{
		"Name": "Support to Atera",
		"State": "Enabled",
		"Mode": "Enforce",
		"Priority": 0,
		"SentTo": ["support@acme.com"],
		"RedirectMessageTo": ["Atera Ticketing"],
		"BlindCopyTo": null,
		"AddToRecipients": null,
		"CopyTo": null,
	},
	over,
)

_rule_input(rule) := _snapshot({
	"Get-Mailbox": [_mailbox({})],
	"Get-TransportRule": [rule],
})

test_route_transport_rule if {
	i := _rule_input(_rule({}))
	route.routes == {{
		"method": "transport_rule",
		"recipient": "mailbox:m-guid",
		"detail": `transport rule "Support to Atera" (priority 0) sends mail for mailbox "Support" <support@acme.com> to contact "Atera Ticketing" <ateraticketing@acme.com> (RedirectMessageTo)`,
	}} with input as i
	route.method == "transport_rule" with input as i
	not route.forwarding_recipient with input as i
}

test_route_transport_rule_value_shapes if {
	every over in [
		{"RedirectMessageTo": "Atera Ticketing"},
		{"RedirectMessageTo": null, "BlindCopyTo": "acme@ticketing.atera.com"},
		{"RedirectMessageTo": null, "AddToRecipients": ["someone else", "c-guid"]},
		{"RedirectMessageTo": null, "CopyTo": ["SMTP:acme@ticketing.atera.com"]},
		{"SentTo": "Support"},
		{"SentTo": ["m-guid"]},
		{"SentTo": ["/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc-support"]},
	] {
		route.method == "transport_rule" with input as _rule_input(_rule(over))
	}
}

test_route_transport_rule_support_not_a_recipient if {
	i := _snapshot({"Get-TransportRule": [_rule({})]})
	[r.recipient | some r in route.routes] == ["external:support@acme.com"] with input as i
}

test_no_route_transport_rule_disabled_or_audit if {
	every over in [
		{"State": "Disabled"},
		{"Mode": "Audit"},
		{"Mode": "AuditAndNotify"},
		{"SentTo": null},
		{"SentTo": ["alice@acme.com"]},
		{"RedirectMessageTo": null},
		{"RedirectMessageTo": "Vendor"},
	] {
		route.routes == set() with input as _rule_input(_rule(over))
	}
}

test_transport_rule_absent_mode_is_enforce_when_enabled if {
	rule := json.remove(_rule({}), ["Mode"])
	route.method == "transport_rule" with input as _rule_input(rule)
	route.routes == set() with input as _rule_input(json.remove(_rule({"State": "Disabled"}), ["Mode"]))
}

test_methods_disagree if {
	i := _snapshot({
		"Get-Mailbox": [_mailbox({"ForwardingAddress": "Atera Ticketing"})],
		"Get-TransportRule": [_rule({})],
	})
	count(route.routes) == 2 with input as i
	not route.method with input as i
	route.forwarding_recipient == "mailbox:m-guid" with input as i
}

test_needed_and_missing_sources if {
	i := {"snapshot": {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
		"exchange": {"Get-MailContact": [_contact], "Get-Mailbox": []},
		"errors": [{"source": "Get-TransportRule", "message": "denied"}],
	}}
	route.missing_sources == {"Get-DistributionGroup", "Get-TransportRule"} with input as i
	route.missing_message == "Get-DistributionGroup was not collected; Get-TransportRule failed: denied" with input as i
	"Get-TransportRule" in route.needed_sources
}

test_no_support_address_no_routes if {
	i := json.remove(_group_input, ["snapshot/atera/support_address"])
	route.routes == set() with input as i
	route.support_recipients == set() with input as i
}

# ---------------------------------------------------------------------------
# edges

_edge_input := _snapshot({
	"Get-Mailbox": [
		_mailbox({"ForwardingAddress": `"Alice" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc-alice]`}),
		object.union(_alice, {"ForwardingSmtpAddress": "smtp:acme@ticketing.atera.com"}),
		{"Name": "bob", "Guid": "b-guid", "PrimarySmtpAddress": "bob@acme.com", "ForwardingSmtpAddress": "smtp:bob@gmail.com"},
	],
	"Get-DistributionGroup": [object.union(_group, {"PrimarySmtpAddress": "team@acme.com", "EmailAddresses": ["SMTP:team@acme.com"]})],
	"Get-DistributionGroupMember": {"team@acme.com": [{"Name": "bob", "Guid": "b-guid"}, {"Name": "Guest", "PrimarySmtpAddress": "guest@partner.com"}]},
	"Get-InboxRule": {"bob@acme.com": [
		{"Name": "to atera", "Enabled": true, "RedirectTo": [`"Atera Ticketing" [SMTP:acme@ticketing.atera.com]`], "ForwardTo": null},
		{"Name": "off", "Enabled": false, "ForwardTo": ["alice@acme.com"]},
		{"Name": "copy", "Enabled": true, "ForwardAsAttachmentTo": "Departed User"},
	]},
	"Get-TransportRule": [_rule({"SentTo": "team@acme.com", "RedirectMessageTo": null, "BlindCopyTo": ["Vendor"]})],
})

_edge_set := {[e.from, e.to, e.kind, e.hop] | some e in route.edges}

test_edges_forwarding_address if {
	["mailbox:m-guid", "mailbox:a-guid", "forwarding", true] in _edge_set with input as _edge_input
}

test_edges_forwarding_smtp_to_contact if {
	["mailbox:a-guid", "contact:c-guid", "forwarding", true] in _edge_set with input as _edge_input
}

test_edges_forwarding_smtp_external if {
	["mailbox:b-guid", "external:bob@gmail.com", "forwarding", true] in _edge_set with input as _edge_input
}

test_edges_members if {
	["group:g-guid", "mailbox:b-guid", "member", false] in _edge_set with input as _edge_input
	["group:g-guid", "external:guest@partner.com", "member", false] in _edge_set with input as _edge_input
}

test_edges_inbox_rules if {
	["mailbox:b-guid", "contact:c-guid", "inbox_rule", true] in _edge_set with input as _edge_input
	["mailbox:b-guid", "unresolved:departed user", "inbox_rule", true] in _edge_set with input as _edge_input
	not ["mailbox:b-guid", "mailbox:a-guid", "inbox_rule", true] in _edge_set with input as _edge_input
}

test_edges_transport_rule if {
	["group:g-guid", "contact:v-guid", "transport_rule", false] in _edge_set with input as _edge_input
}

test_edges_exact_set if {
	_edge_set == {
		["mailbox:m-guid", "mailbox:a-guid", "forwarding", true],
		["mailbox:a-guid", "contact:c-guid", "forwarding", true],
		["mailbox:b-guid", "external:bob@gmail.com", "forwarding", true],
		["group:g-guid", "mailbox:b-guid", "member", false],
		["group:g-guid", "external:guest@partner.com", "member", false],
		["mailbox:b-guid", "contact:c-guid", "inbox_rule", true],
		["mailbox:b-guid", "unresolved:departed user", "inbox_rule", true],
		["group:g-guid", "contact:v-guid", "transport_rule", false],
	} with input as _edge_input
}

test_edge_detail if {
	some e in route.edges with input as _edge_input
	e.from == "mailbox:b-guid"
	e.kind == "inbox_rule"
	e.to == "contact:c-guid"
	e.detail == `inbox rule "to atera" of mailbox "bob" <bob@acme.com>: RedirectTo contact "Atera Ticketing" <ateraticketing@acme.com>`
}

_graph_rules_input(rules) := object.union(
	_snapshot({"Get-Mailbox": [_mailbox({}), _alice]}),
	{"snapshot": {"graph": {"messageRules": {"support@acme.com": rules}}}},
)

test_edges_graph_message_rules if {
	rules := [
		{"displayName": "fwd", "isEnabled": true, "actions": {"forwardTo": [{"emailAddress": {"name": "Alice", "address": "Alice@acme.com"}}]}},
		{"displayName": "redirect one", "isEnabled": true, "actions": {"redirectTo": {"emailAddress": {"address": "acme@ticketing.atera.com"}}}},
		{"displayName": "attach", "isEnabled": true, "actions": {"forwardAsAttachmentTo": [{"emailAddress": {"address": "x@outside.com"}}]}},
		{"displayName": "off", "isEnabled": false, "actions": {"forwardTo": [{"emailAddress": {"address": "off@outside.com"}}]}},
		{"displayName": "no actions", "isEnabled": true},
	]
	_edge_set == {
		["mailbox:m-guid", "mailbox:a-guid", "inbox_rule", true],
		["mailbox:m-guid", "contact:c-guid", "inbox_rule", true],
		["mailbox:m-guid", "external:x@outside.com", "inbox_rule", true],
	} with input as _graph_rules_input(rules)
}

test_inbox_rule_enabled_absent_counts if {
	i := _snapshot({
		"Get-Mailbox": [_mailbox({})],
		"Get-InboxRule": {"support@acme.com": [{"Name": "r", "RedirectTo": ["x@outside.com"]}]},
	})
	_edge_set == {["mailbox:m-guid", "external:x@outside.com", "inbox_rule", true]} with input as i
}

test_inbox_rules_of_unknown_mailbox if {
	i := _snapshot({"Get-InboxRule": {"ghost@acme.com": [{"Name": "r", "Enabled": "True", "ForwardTo": "x@outside.com"}]}})
	_edge_set == {["external:ghost@acme.com", "external:x@outside.com", "inbox_rule", true]} with input as i
}

test_inbox_rules_collected if {
	i := _snapshot({"Get-InboxRule": {"support@acme.com": []}})
	route.inbox_rules_collected("SMTP:Support@acme.com") with input as i
	not route.inbox_rules_collected("other@acme.com") with input as i
	route.inbox_rules_collected("support@acme.com") with input as _graph_rules_input([])
}

# The same forwarding rule read through both Get-InboxRule and Graph is one
# hop, not two: Get-InboxRule wins for that mailbox.
test_inbox_rule_sources_not_double_counted if {
	snapshot := {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
		"exchange": {
			"Get-Mailbox": [{"Guid": "m1", "PrimarySmtpAddress": "support@acme.com", "EmailAddresses": ["SMTP:support@acme.com"]}],
			"Get-InboxRule": {"support@acme.com": [{"Name": "to atera", "Enabled": true, "RedirectTo": ["\"Atera\" [SMTP:acme@ticketing.atera.com]"]}]},
		},
		"graph": {"messageRules": {"support@acme.com": [{
			"displayName": "to atera", "isEnabled": true,
			"actions": {"redirectTo": [{"emailAddress": {"address": "acme@ticketing.atera.com"}}]},
		}]}},
	}
	all_edges := route.edges with input as {"snapshot": snapshot}
	hops := [e | some e in all_edges; e.kind == "inbox_rule"]
	count(hops) == 1
	contains(hops[0].detail, "RedirectTo")
}
