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

test_route_and_edges_group_members_from_graph if {
	i := json.patch(_snapshot({"Get-DistributionGroup": [_group]}), [{"op": "add", "path": "/snapshot/graph", "value": {"groupMembers": {"support@acme.com": [
		{"@odata.type": "#microsoft.graph.orgContact", "id": "c-guid", "displayName": "Atera Ticketing", "mail": "ateraticketing@acme.com"},
		{"@odata.type": "#microsoft.graph.user", "id": "u-guid", "displayName": "Bob", "mail": "bob@elsewhere.com"},
	]}}}])
	route.method == "group" with input as i
	route.missing_sources == set() with input as i
	{[e.from, e.to, e.kind] | some e in route.edges} == {
		["group:g-guid", "contact:c-guid", "member"],
		["group:g-guid", "external:bob@elsewhere.com", "member"],
	} with input as i
}

# An errored Get-DistributionGroupMember is not read, even with rows in it.
test_no_edges_from_errored_group_members if {
	i := json.patch(_group_input, [{"op": "add", "path": "/snapshot/errors", "value": [{"source": "Get-DistributionGroupMember", "message": "partial"}]}])
	route.routes == set() with input as i
	{e | some e in route.edges; e.kind == "member"} == set() with input as i
	route.missing_sources == {"Get-DistributionGroupMember"} with input as i
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
	route.missing_message == "Get-DistributionGroupMember was not collected; graph.groupMembers was not collected" with input as i
}

test_support_group_members_absent_from_collected_cmdlet if {
	i := _snapshot({
		"Get-DistributionGroup": [_group],
		"Get-DistributionGroupMember": {"other@acme.com": []},
	})
	route.missing_sources == {"Get-DistributionGroupMember"} with input as i
	route.missing_message == "Get-DistributionGroupMember for support@acme.com was not collected; graph.groupMembers was not collected" with input as i
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

# Two objects answer to a ForwardingAddress equally well: the forwarding goes
# to one of them, and which one the snapshot cannot tell.
_twin := {
	"Name": "atera-twin",
	"DisplayName": "Atera Ticketing",
	"Guid": "t-guid",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.cmo",
	"PrimarySmtpAddress": "acme@ticketing.atera.cmo",
}

_real_by_display := object.union(_contact, {"Name": "atera-real"})

test_ambiguous_forwarding_address_is_no_route if {
	i := _snapshot({
		"Get-MailContact": [_real_by_display, _twin],
		"Get-Mailbox": [_mailbox({"ForwardingAddress": "Atera Ticketing"})],
	})
	route.routes == set() with input as i
	route.ambiguous_routes == {{
		"method": "mailbox",
		"recipient": "mailbox:m-guid",
		"detail": `ForwardingAddress "Atera Ticketing" of mailbox "Support" <support@acme.com> is ambiguous: it matches contact "Atera Ticketing" <acme@ticketing.atera.cmo> and contact "Atera Ticketing" <ateraticketing@acme.com>`,
	}} with input as i
	{[e.from, e.to] | some e in route.edges; e.kind == "forwarding"} == {["mailbox:m-guid", "ambiguous:atera ticketing"]} with input as i
}

# A Name match outranks another object's display name: not ambiguous.
test_forwarding_address_name_outranks_display_name if {
	named_twin := object.union(_twin, {"Name": "Atera Ticketing"})
	i := _snapshot({
		"Get-MailContact": [_real_by_display, named_twin],
		"Get-Mailbox": [_mailbox({"ForwardingAddress": "Atera Ticketing"})],
	})
	route.routes == set() with input as i
	route.ambiguous_routes == set() with input as i
	{[e.from, e.to] | some e in route.edges; e.kind == "forwarding"} == {["mailbox:m-guid", "contact:t-guid"]} with input as i
}

# Both candidates are ticketing contacts: the mail reaches Atera either way.
test_ambiguous_between_ticketing_contacts_is_a_route if {
	other := object.union(_twin, {"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com"})
	i := _snapshot({
		"Get-MailContact": [_real_by_display, other],
		"Get-Mailbox": [_mailbox({"ForwardingAddress": "Atera Ticketing"})],
	})
	route.method == "mailbox" with input as i
}

test_ambiguous_transport_rule_target_is_no_route if {
	i := _snapshot({
		"Get-MailContact": [_real_by_display, _twin],
		"Get-Mailbox": [_mailbox({})],
		"Get-TransportRule": [_rule({"RedirectMessageTo": "Atera Ticketing"})],
	})
	route.routes == set() with input as i
	some c in route.transport_rule_candidates with input as i
	c.ambiguous == [`RedirectMessageTo "Atera Ticketing" is ambiguous: it matches contact "Atera Ticketing" <acme@ticketing.atera.cmo> and contact "Atera Ticketing" <ateraticketing@acme.com>`]
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

# ---------------------------------------------------------------------------
# A transport rule only delivers support mail when it acts on every message
# from outside: inside its activation window, with no condition or exception
# beyond the recipient being the support address.

_now := {"now": "2026-11-27T06:00:00Z", "now_ns": 1795759200000000000}

_dated(rule) := object.union(_rule_input(rule), _now)

test_transport_rule_expired_is_not_a_route if {
	i := _dated(_rule({"ActivationDate": null, "ExpiryDate": "2025-01-01T00:00:00.0000000+00:00"}))
	route.routes == set() with input as i
	route.active_transport_rules == [] with input as i
	some c in route.transport_rule_candidates with input as i
	c.inactive == [`ExpiryDate = "2025-01-01T00:00:00.0000000+00:00", before the evaluation time 2026-11-27T06:00:00Z (the rule has expired and no longer acts)`]
}

test_transport_rule_not_yet_active_is_not_a_route if {
	i := _dated(_rule({"ActivationDate": "/Date(1811808000000)/"}))
	route.routes == set() with input as i
	some c in route.transport_rule_candidates with input as i
	c.inactive == [`ActivationDate = "/Date(1811808000000)/", after the evaluation time 2026-11-27T06:00:00Z (the rule does not act yet)`]
}

test_transport_rule_inside_its_window_is_a_route if {
	i := _dated(_rule({"ActivationDate": "2026-01-01T00:00:00.0000000+00:00", "ExpiryDate": "2027-01-01T00:00:00+00:00"}))
	route.method == "transport_rule" with input as i
}

# A date that cannot be read, or no evaluation time to compare it with:
# whether the rule acts is unknown.
test_transport_rule_unreadable_date_is_a_condition if {
	every i in [
		_dated(_rule({"ExpiryDate": "1/1/2025 12:00:00 AM"})),
		_rule_input(_rule({"ExpiryDate": "2025-01-01T00:00:00Z"})),
	] {
		route.routes == set() with input as i
		some c in route.transport_rule_candidates with input as i
		some cond in c.conditions
		contains(cond, "ExpiryDate")
	}
}

test_transport_rule_conditions_are_not_routes if {
	every over in [
		{"FromScope": "InOrganization"},
		{"ExceptIfFromScope": "NotInOrganization"},
		{"SubjectContainsWords": ["urgent"]},
		{"ExceptIfSubjectOrBodyContainsWords": "unsubscribe"},
		{"FromMemberOf": ["VIP customers"]},
		{"SenderDomainIs": ["fabrikam.com"]},
		{"HeaderContainsWords": ["x"], "HeaderContainsMessageHeader": "X-Customer"},
		{"MessageTypeMatches": "AutoForward"},
		{"HasAttachment": true},
		{"SCLOver": 5},
		{"SentToScope": "NotInOrganization"},
		{"RecipientDomainIs": ["contoso.com"]},
		{"DeleteMessage": true},
		{"ModerateMessageByUser": ["boss@acme.com"]},
		{"SomeFuturePredicate": "x"},
		{"Conditions": ["Microsoft.Exchange.MessagingPolicies.Rules.Tasks.SentToPredicate", "Microsoft.Exchange.MessagingPolicies.Rules.Tasks.FromAddressContainsPredicate"]},
	] {
		i := _rule_input(_rule(over))
		route.routes == set() with input as i
		some c in route.transport_rule_candidates with input as i
		count(c.conditions) > 0
	}
}

test_transport_rule_condition_text if {
	i := _rule_input(_rule({"FromScope": "InOrganization", "SubjectContainsWords": ["urgent"]}))
	some c in route.transport_rule_candidates with input as i
	c.excludes_external == true
	c.conditions == [
		`FromScope = "InOrganization" (only senders inside the organisation match: customers writing from outside are never redirected)`,
		`SubjectContainsWords = ["urgent"] (a condition: the rule acts only on messages that match it)`,
	]
}

# Properties that do not narrow which support mail is redirected.
test_transport_rule_benign_properties_keep_the_route if {
	every over in [
		{"FromScope": "NotInOrganization"},
		{"ExceptIfFromScope": "InOrganization"},
		{"SentToScope": "InOrganization"},
		{"RecipientDomainIs": ["ACME.com"]},
		{"RecipientAddressContainsWords": ["support"]},
		{"AnyOfRecipientAddressMatchesPatterns": ["^support@"]},
		{"Comments": "Atera", "Description": "If the message...", "DeleteMessage": false, "Quarantine": false, "StopRuleProcessing": true},
		{"PrependSubject": "[Ticket] ", "SetAuditSeverity": "", "ExceptIfHasSenderOverride": false, "HeaderContainsMessageHeader": "X-Ignored"},
		{"Conditions": ["Microsoft.Exchange.MessagingPolicies.Rules.Tasks.SentToPredicate"], "Exceptions": null, "Actions": ["Microsoft.Exchange.MessagingPolicies.Rules.Tasks.RedirectMessageAction"]},
		{"Priority@data.type": "System.Int32", "RuleErrorAction": "Ignore", "SenderAddressLocation": "Header", "RuleSubType": "None", "UseLegacyRegex": false},
	] {
		route.method == "transport_rule" with input as _rule_input(_rule(over))
	}
}

# An earlier rule that stops rule processing may keep the redirect from
# running at all.
test_transport_rule_after_stop_rule_processing_is_conditional if {
	stop := {"Name": "Tag newsletters", "State": "Enabled", "Mode": "Enforce", "Priority": 0, "SubjectContainsWords": ["newsletter"], "StopRuleProcessing": true}
	i := _snapshot({"Get-Mailbox": [_mailbox({})], "Get-TransportRule": [stop, _rule({"Priority": 1})]})
	route.routes == set() with input as i
	some c in route.transport_rule_candidates with input as i
	some cond in c.conditions
	contains(cond, `transport rule "Tag newsletters" (priority 0) runs first and has StopRuleProcessing = true`)

	# after it, not before
	j := _snapshot({"Get-Mailbox": [_mailbox({})], "Get-TransportRule": [object.union(stop, {"Priority": 2}), _rule({"Priority": 1})]})
	route.method == "transport_rule" with input as j
}

# Expired and conditional rules redirect nothing for sure: an expired one is
# no edge of the delivery graph; a conditional one may act, so it stays one.
test_edges_skip_expired_rules if {
	expired := _dated(_rule({"ExpiryDate": "2025-01-01T00:00:00Z"}))
	{e | some e in route.edges; e.kind == "transport_rule"} == set() with input as expired
	conditional := _dated(_rule({"SubjectContainsWords": ["urgent"]}))
	count({e | some e in route.edges; e.kind == "transport_rule"}) == 1 with input as conditional
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
