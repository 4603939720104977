package ticketguard.lib.identity_test

import data.ticketguard.lib.identity

_legacy_dn := "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc123-support"

_old_dn := "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=support-old"

_support := {
	"Name": "support",
	"Alias": "support",
	"DisplayName": "Support Desk",
	"Identity": "5f3c0e43-1b1c-4f6e-9d0e-0c6e5d1c2b10",
	"ExternalDirectoryObjectId": "5F3C0E43-1B1C-4F6E-9D0E-0C6E5D1C2B10",
	"Guid": "0b1f0a52-6d9e-4a55-8d39-3a3f0f2a9e11",
	"ExchangeObjectId": "7d6f3a21-0c4f-4ee5-9a61-0f3b8e9d2c12",
	"PrimarySmtpAddress": "Support@Acme.com",
	"UserPrincipalName": "support.upn@acme.onmicrosoft.com",
	"WindowsLiveID": "support.live@acme.com",
	"MicrosoftOnlineServicesID": "support.mos@acme.com",
	"DistinguishedName": "CN=support,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com",
	"LegacyExchangeDN": _legacy_dn,
	"EmailAddresses": [
		"SMTP:Support@Acme.com",
		"smtp:helpdesk@acme.com",
		"smtp:support@acme.onmicrosoft.com",
		"SIP:sip-only@acme.com",
		"SPO:SPO_abc@SPO_tenant",
		concat(":", ["X500", _old_dn]),
	],
}

_group := {
	"Name": "Sales",
	"DisplayName": "Sales Team",
	"Guid": "1111aaaa-0000-0000-0000-000000000001",
	"PrimarySmtpAddress": "sales@acme.com",
	"EmailAddresses": "SMTP:sales@acme.com",
}

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Identity": "Atera Ticketing",
	"Guid": "2222bbbb-0000-0000-0000-000000000002",
	"ExternalEmailAddress": "SMTP:Acme@Ticketing.Atera.com",
	"PrimarySmtpAddress": "acme_ticketing@acme.com",
	"EmailAddresses": ["SMTP:acme_ticketing@acme.com"],
}

_input := {"snapshot": {"exchange": {
	"Get-Mailbox": [_support],
	"Get-DistributionGroup": [_group],
	"Get-MailContact": [_contact],
}}}

_mbx := "mailbox:5f3c0e43-1b1c-4f6e-9d0e-0c6e5d1c2b10"

_grp := "group:1111aaaa-0000-0000-0000-000000000001"

_con := "contact:2222bbbb-0000-0000-0000-000000000002"

test_keys_by_kind_and_first_id if {
	r := identity.recipients with input as _input
	object.keys(r) == {_mbx, _grp, _con}
	r[_mbx].kind == "mailbox"
	r[_grp].kind == "group"
	r[_con].kind == "contact"
}

test_key_falls_back_to_identity_then_address if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [
		{"Identity": "Alias1", "PrimarySmtpAddress": "a@acme.com"},
		{"PrimarySmtpAddress": "SMTP:B@acme.com"},
		{"DisplayName": "no ids at all"},
	]}}}
	object.keys(identity.recipients) == {"mailbox:alias1", "mailbox:b@acme.com", "mailbox:#2"} with input as i
}

test_duplicate_ids_do_not_break_evaluation if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [
		{"Guid": "g1", "DisplayName": "One"},
		{"Guid": "g1", "DisplayName": "Two"},
	]}}}
	object.keys(identity.recipients) == {"mailbox:g1#0", "mailbox:g1#1"} with input as i
}

test_primary_and_addresses if {
	r := identity.recipients[_mbx] with input as _input
	r.primary == "support@acme.com"
	r.addresses == {"support@acme.com", "helpdesk@acme.com", "support@acme.onmicrosoft.com"}
}

test_sip_spo_x500_are_not_addresses if {
	r := identity.recipients[_mbx] with input as _input
	not "sip-only@acme.com" in r.addresses
	count([a | some a in r.addresses; startswith(a, "/o=")]) == 0
}

test_contact_addresses_include_external if {
	r := identity.recipients[_con] with input as _input
	r.addresses == {"acme@ticketing.atera.com", "acme_ticketing@acme.com"}
	r.primary == "acme_ticketing@acme.com"
}

test_contact_primary_falls_back_to_external if {
	i := {"snapshot": {"exchange": {"Get-MailContact": [{"Guid": "c", "ExternalEmailAddress": "SMTP:X@Ext.com"}]}}}
	identity.recipients["contact:c"].primary == "x@ext.com" with input as i
}

test_primary_falls_back_to_uppercase_proxy if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [{"Guid": "m", "EmailAddresses": ["smtp:two@acme.com", "SMTP:One@acme.com"]}]}}}
	identity.recipients["mailbox:m"].primary == "one@acme.com" with input as i
}

test_bare_string_email_addresses if {
	identity.recipients[_grp].addresses == {"sales@acme.com"} with input as _input
}

test_labels if {
	identity.label(_mbx) == `mailbox "Support Desk" <support@acme.com>` with input as _input
	identity.label(_con) == `contact "Atera Ticketing" <acme_ticketing@acme.com>` with input as _input
	identity.label("external:a@b.com") == "external address <a@b.com>" with input as _input
	identity.label("unresolved:x") == `unresolved reference "x"` with input as _input
	identity.label("other:x") == "other:x" with input as _input
}

test_label_without_address if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [{"Guid": "m", "Name": "nomail"}]}}}
	identity.label("mailbox:m") == `mailbox "nomail"` with input as i
}

# Every form an object can be referred to by resolves to it.
test_resolve_every_form if {
	refs := [
		"Support Desk", "support", "SUPPORT",
		"5f3c0e43-1b1c-4f6e-9d0e-0c6e5d1c2b10",
		"0B1F0A52-6D9E-4A55-8D39-3A3F0F2A9E11",
		"7d6f3a21-0c4f-4ee5-9a61-0f3b8e9d2c12",
		"support@acme.com", "SMTP:Support@Acme.com", "smtp:helpdesk@acme.com",
		"support@acme.onmicrosoft.com",
		"support.upn@acme.onmicrosoft.com", "support.live@acme.com", "support.mos@acme.com",
		"cn=support,ou=acme.onmicrosoft.com,ou=microsoft exchange hosted organizations,dc=eurpr01a001,dc=prod,dc=outlook,dc=com",
		_legacy_dn,
		concat("", [`"Support Desk" [EX:`, _legacy_dn, "]"]),
		concat("", [`"Support Desk" [EX:`, _old_dn, "]"]),
		concat(":", ["X500", _old_dn]),
		`"Support Desk" [SMTP:helpdesk@acme.com]`,
		"  Support@ACME.com ",
	]
	every ref in refs {
		identity.resolve(ref) == {_mbx} with input as _input
	}
}

test_resolve_contact_by_external_address if {
	identity.resolve("acme@ticketing.atera.com") == {_con} with input as _input
	identity.resolve(`"Atera" [SMTP:ACME@ticketing.atera.com]`) == {_con} with input as _input
	identity.resolve("SMTP:acme@ticketing.atera.com") == {_con} with input as _input
	identity.resolve("Atera Ticketing") == {_con} with input as _input
}

test_resolve_unknown_is_empty_set if {
	identity.resolve("nobody@acme.com") == set() with input as _input
	identity.resolve(null) == set() with input as _input
	identity.resolve("") == set() with input as _input
	identity.resolve(`"Other" [EX:/o=ExchangeLabs/cn=Recipients/cn=other]`) == set() with input as _input
}

test_sip_and_spo_do_not_resolve if {
	identity.resolve("sip-only@acme.com") == set() with input as _input
	identity.resolve("SIP:sip-only@acme.com") == set() with input as _input
}

test_nt_authority_never_resolves if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [{"Guid": "m", "DisplayName": `NT AUTHORITY\SELF`}]}}}
	identity.resolve(`NT AUTHORITY\SELF`) == set() with input as i
	identity.resolve("S-1-5-10") == set() with input as i
	identity.is_unresolvable(`nt authority\self`)
	not identity.is_unresolvable("support@acme.com")
}

test_ambiguous_name_resolves_to_all if {
	i := {"snapshot": {"exchange": {
		"Get-Mailbox": [{"Guid": "m", "DisplayName": "Support", "PrimarySmtpAddress": "support@acme.com"}],
		"Get-DistributionGroup": [{"Guid": "g", "DisplayName": "Support", "PrimarySmtpAddress": "support-dl@acme.com"}],
	}}}
	identity.resolve("support") == {"mailbox:m", "group:g"} with input as i
	identity.resolve_kind("support", "group") == {"group:g"} with input as i
}

test_by_address if {
	identity.by_address("SMTP:HelpDesk@acme.com") == {_mbx} with input as _input
	identity.by_address("acme@ticketing.atera.com") == {_con} with input as _input
	identity.by_address("other@acme.com") == set() with input as _input
}

test_by_address_ignores_names if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [
		{"Guid": "m", "DisplayName": "support@acme.com", "PrimarySmtpAddress": "other@acme.com"},
	]}}}
	identity.by_address("support@acme.com") == set() with input as i
	identity.resolve("support@acme.com") == {"mailbox:m"} with input as i
}

test_by_address_upn_is_not_an_address if {
	identity.by_address("support.upn@acme.onmicrosoft.com") == set() with input as _input
}

test_refers_to_and_same if {
	identity.refers_to(_legacy_dn, _mbx) with input as _input
	not identity.refers_to(_legacy_dn, _con) with input as _input
	identity.same("support.upn@acme.onmicrosoft.com", "Support Desk") with input as _input
	not identity.same("support@acme.com", "acme@ticketing.atera.com") with input as _input
	not identity.same("nobody@acme.com", "nobody@acme.com") with input as _input
}

test_kind_of if {
	identity.kind_of(_grp) == "group" with input as _input
	not identity.kind_of("external:x@y.com") with input as _input
}

test_node if {
	identity.node("Support@acme.com") == {_mbx} with input as _input
	identity.node("SMTP:Someone@Gmail.com") == {"external:someone@gmail.com"} with input as _input
}

test_resolve_entry_member_row if {
	row := {
		"Identity": "Atera Ticketing",
		"Name": "Atera Ticketing",
		"PrimarySmtpAddress": "acme_ticketing@acme.com",
		"RecipientType": "MailContact",
	}
	identity.resolve_entry(row) == {_con} with input as _input
}

test_resolve_entry_prefers_precise_fields if {
	i := {"snapshot": {"exchange": {
		"Get-Mailbox": [{"Guid": "m", "Name": "Shared", "PrimarySmtpAddress": "a@acme.com"}],
		"Get-MailContact": [{"Guid": "c", "Name": "Shared", "ExternalEmailAddress": "SMTP:b@ext.com"}],
	}}}
	identity.resolve_entry({"Name": "Shared", "ExternalDirectoryObjectId": "nope", "Guid": "c"}) == {"contact:c"} with input as i
	identity.resolve_entry({"Name": "Shared"}) == {"mailbox:m", "contact:c"} with input as i
}

test_resolve_entry_graph_member if {
	identity.resolve_entry({"id": "5f3c0e43-1b1c-4f6e-9d0e-0c6e5d1c2b10", "displayName": "x"}) == {_mbx} with input as _input
}

test_resolve_entry_string_and_other if {
	identity.resolve_entry("Sales Team") == {_grp} with input as _input
	identity.resolve_entry(null) == set() with input as _input
	identity.resolve_entry(3) == set() with input as _input
}

test_name_with_colon_and_brackets if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [{"Guid": "m", "DisplayName": "Help: Desk [EU]"}]}}}
	identity.resolve("help: desk [eu]") == {"mailbox:m"} with input as i
	identity.resolve("Help: Desk [EU]") == {"mailbox:m"} with input as i
}

test_no_exchange_data if {
	identity.recipients == {} with input as {"snapshot": {}}
	identity.resolve("support") == set() with input as {"snapshot": {}}
}

test_forms_hold_no_empty_string if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [{"Guid": "m", "DisplayName": "", "Name": "  ", "Alias": null}]}}}
	not "" in identity.recipients["mailbox:m"].forms with input as i
	identity.resolve(" ") == set() with input as i
}

test_ref_nodes if {
	identity.ref_nodes(`"Support Desk" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc123-support]`) == {_mbx} with input as _input
	identity.ref_nodes(`"Someone" [SMTP:Someone@Gmail.com]`) == {"external:someone@gmail.com"} with input as _input
	identity.ref_nodes("Departed User") == {"unresolved:departed user"} with input as _input
	identity.ref_nodes(null) == set() with input as _input
}

test_entry_nodes if {
	identity.entry_nodes({"Name": "Atera Ticketing", "PrimarySmtpAddress": "acme_ticketing@acme.com"}) == {_con} with input as _input
	identity.entry_nodes({"Name": "Guest", "PrimarySmtpAddress": "guest@partner.com"}) == {"external:guest@partner.com"} with input as _input
	identity.entry_nodes({"emailAddress": {"name": "X", "address": "X@Partner.com"}}) == {"external:x@partner.com"} with input as _input
	identity.entry_nodes({"emailAddress": {"address": "support@acme.com"}}) == {_mbx} with input as _input
	identity.entry_nodes({"Name": "Ghost"}) == {"unresolved:ghost"} with input as _input
	identity.entry_nodes("Sales Team") == {_grp} with input as _input
}

_with_members := {"snapshot": {"exchange": {
	"Get-Mailbox": [_support],
	"Get-DistributionGroup": [_group],
	"Get-MailContact": [_contact],
	"Get-DistributionGroupMember": {"sales@acme.com": [
		{"Name": "support", "ExternalDirectoryObjectId": "5f3c0e43-1b1c-4f6e-9d0e-0c6e5d1c2b10"},
		{"Name": "Atera Ticketing", "PrimarySmtpAddress": "acme_ticketing@acme.com"},
		{"Name": "Partner", "PrimarySmtpAddress": "p@partner.com"},
	]},
}}}

test_members if {
	identity.members(_grp) == {_mbx, _con, "external:p@partner.com"} with input as _with_members
	count(identity.member_rows(_grp)) == 3 with input as _with_members
}

test_members_not_collected_is_undefined if {
	not identity.members(_grp) with input as _input
	not identity.member_rows(_grp) with input as _input
}

test_members_empty_list_is_defined if {
	i := json.patch(_input, [{"op": "add", "path": "/snapshot/exchange/Get-DistributionGroupMember", "value": {"sales@acme.com": []}}])
	identity.members(_grp) == set() with input as i
}

test_members_keyed_by_secondary_address if {
	g := object.union(_group, {"EmailAddresses": ["SMTP:sales@acme.com", "smtp:team@acme.com"]})
	i := {"snapshot": {"exchange": {
		"Get-DistributionGroup": [g],
		"Get-MailContact": [_contact],
		"Get-DistributionGroupMember": {"team@acme.com": [{"Name": "Atera Ticketing", "Guid": "2222bbbb-0000-0000-0000-000000000002"}]},
	}}}
	identity.members(_grp) == {_con} with input as i
}

test_members_of_unknown_group_by_address if {
	identity.members("external:sales@acme.com") == {_mbx, _con, "external:p@partner.com"} with input as {"snapshot": {"exchange": {
		"Get-Mailbox": [_support],
		"Get-MailContact": [_contact],
		"Get-DistributionGroupMember": _with_members.snapshot.exchange["Get-DistributionGroupMember"],
	}}}
}

# Graph members (GET /groups/{id}/members, $select id, displayName, mail,
# mailNickname, proxyAddresses, userPrincipalName) as `ticketguard collect`
# stores them in graph.groupMembers when Get-DistributionGroupMember was not
# read. `id` is the object's ExternalDirectoryObjectId.
_contact_eid := "9c1d7e55-3a2b-4c1d-8e9f-0a1b2c3d4e5f"

# With an ExternalDirectoryObjectId the contact is keyed by it.
_gcon := concat(":", ["contact", _contact_eid])

_graph_exchange := {
	"Get-Mailbox": [_support],
	"Get-DistributionGroup": [_group],
	"Get-MailContact": [object.union(_contact, {"ExternalDirectoryObjectId": _contact_eid})],
}

_graph_rows := [
	{
		"@odata.type": "#microsoft.graph.user",
		"id": "5f3c0e43-1b1c-4f6e-9d0e-0c6e5d1c2b10",
		"displayName": "Support Desk",
		"mail": "Support@Acme.com",
		"userPrincipalName": "support.upn@acme.onmicrosoft.com",
		"proxyAddresses": ["SMTP:Support@Acme.com", "smtp:helpdesk@acme.com"],
	},
	{
		"@odata.type": "#microsoft.graph.orgContact",
		"id": _contact_eid,
		"displayName": "Atera Ticketing",
		"mail": "Acme@Ticketing.Atera.com",
		"proxyAddresses": ["SMTP:Acme@Ticketing.Atera.com"],
	},
	{
		"@odata.type": "#microsoft.graph.user",
		"id": "0f0f0f0f-0000-0000-0000-00000000abcd",
		"displayName": "Partner Guest",
		"mail": "guest@partner.com",
		"proxyAddresses": [],
	},
]

_with_graph_members := {"snapshot": {
	"exchange": _graph_exchange,
	"graph": {"groupMembers": {"sales@acme.com": _graph_rows}},
}}

test_members_from_graph_when_exchange_absent if {
	identity.members(_grp) == {_mbx, _gcon, "external:guest@partner.com"} with input as _with_graph_members
	identity.member_rows(_grp) == _graph_rows with input as _with_graph_members
}

test_members_exchange_rows_win_over_graph if {
	i := {"snapshot": {
		"exchange": object.union(_graph_exchange, {"Get-DistributionGroupMember": {"sales@acme.com": [{"Name": "Atera Ticketing", "Guid": "2222bbbb-0000-0000-0000-000000000002"}]}}),
		"graph": {"groupMembers": {"sales@acme.com": _graph_rows}},
	}}
	identity.members(_grp) == {_gcon} with input as i
}

# Exchange collected other groups only: this group's rows come from Graph.
test_members_graph_per_group_fallback if {
	i := {"snapshot": {
		"exchange": object.union(_graph_exchange, {"Get-DistributionGroupMember": {"other@acme.com": []}}),
		"graph": {"groupMembers": {"sales@acme.com": [_graph_rows[1]]}},
	}}
	identity.members(_grp) == {_gcon} with input as i
}

test_members_graph_empty_list_is_defined if {
	i := {"snapshot": {"exchange": _graph_exchange, "graph": {"groupMembers": {"sales@acme.com": []}}}}
	identity.members(_grp) == set() with input as i
}

test_members_neither_source_is_undefined if {
	i := {"snapshot": {"exchange": _graph_exchange, "graph": {"groupMembers": {"other@acme.com": _graph_rows}}}}
	not identity.members(_grp) with input as i
	not identity.member_rows(_grp) with input as i
}

test_members_graph_null_entry_is_not_collected if {
	i := {"snapshot": {"exchange": _graph_exchange, "graph": {"groupMembers": {"sales@acme.com": null}}}}
	not identity.member_rows(_grp) with input as i
}

# A Graph member without id resolves by a secondary smtp: proxy; SIP: and
# X500: entries are not mail addresses.
test_resolve_entry_graph_proxy_addresses if {
	row := {"@odata.type": "#microsoft.graph.user", "displayName": "Someone", "proxyAddresses": ["SIP:helpdesk@acme.com", "smtp:helpdesk@acme.com"]}
	identity.resolve_entry(row) == {_mbx} with input as {"snapshot": {"exchange": _graph_exchange}}
	sip_only := {"@odata.type": "#microsoft.graph.user", "displayName": "Someone", "proxyAddresses": ["SIP:helpdesk@acme.com"]}
	identity.resolve_entry(sip_only) == set() with input as {"snapshot": {"exchange": _graph_exchange}}
}

# The contact's mail is its external address; a member known to Graph only
# by a primary proxy outside the tenant is an external node.
test_entry_nodes_graph_fallback_address if {
	row := {"@odata.type": "#microsoft.graph.orgContact", "id": "unknown-id", "displayName": "Old Contact", "proxyAddresses": ["SMTP:Old@Vendor.com"]}
	identity.entry_nodes(row) == {"external:old@vendor.com"} with input as {"snapshot": {"exchange": _graph_exchange}}
}

# @odata.type separates a contact from a mailbox sharing its display name
# when only the name is known.
test_resolve_entry_graph_type_prefers_kind if {
	i := {"snapshot": {"exchange": {
		"Get-Mailbox": [{"Guid": "m", "Name": "Atera Ticketing", "PrimarySmtpAddress": "a@acme.com"}],
		"Get-MailContact": [{"Guid": "c", "Name": "Atera Ticketing", "ExternalEmailAddress": "SMTP:b@ext.com"}],
	}}}
	identity.resolve_entry({"@odata.type": "#microsoft.graph.orgContact", "displayName": "Atera Ticketing"}) == {"contact:c"} with input as i
	identity.resolve_entry({"@odata.type": "#microsoft.graph.user", "displayName": "Atera Ticketing"}) == {"mailbox:m"} with input as i
	identity.resolve_entry({"displayName": "Atera Ticketing"}) == {"mailbox:m", "contact:c"} with input as i

	# A type with no candidate of its kind keeps what resolved.
	identity.resolve_entry({"@odata.type": "#microsoft.graph.group", "displayName": "Atera Ticketing"}) == {"mailbox:m", "contact:c"} with input as i
}

# ---------------------------------------------------------------------------
# resolve_best: a reference names one object. Exchange writes references by
# the object's Name (ForwardingAddress, ManagedBy, SentTo), an id or an
# address; a display name is not unique. So the best-ranked form that matches
# wins: ids and addresses, then Identity/Name/Alias/UPN, then DisplayName.

_rank_input := {"snapshot": {"exchange": {
	"Get-Mailbox": [],
	"Get-DistributionGroup": [],
	"Get-MailContact": [
		# the real ticketing contact, renamed; its display name is unchanged
		{"Name": "Atera Ticketing2", "Identity": "Atera Ticketing2", "DisplayName": "Atera Ticketing", "Guid": "c1", "ExternalEmailAddress": "SMTP:acme@ticketing.atera.com", "PrimarySmtpAddress": "acme@ticketing.atera.com"},
		# a mistyped one holding the name
		{"Name": "Atera Ticketing", "Identity": "Atera Ticketing", "DisplayName": "Atera Ticketing", "Guid": "c2", "ExternalEmailAddress": "SMTP:acme@ticketing.atera.cmo", "PrimarySmtpAddress": "acme@ticketing.atera.cmo"},
		# a display name shared by two contacts, and one that is another's address
		{"Name": "vendor-a", "DisplayName": "Vendor", "Guid": "v1", "ExternalEmailAddress": "SMTP:a@vendor.com"},
		{"Name": "vendor-b", "DisplayName": "Vendor", "Guid": "v2", "ExternalEmailAddress": "SMTP:b@vendor.com"},
		{"Name": "odd", "DisplayName": "a@vendor.com", "Guid": "v3", "ExternalEmailAddress": "SMTP:c@vendor.com"},
	],
}}}

test_resolve_best_name_beats_display_name if {
	identity.resolve("Atera Ticketing") == {"contact:c1", "contact:c2"} with input as _rank_input
	identity.resolve_best("Atera Ticketing") == {"contact:c2"} with input as _rank_input
	not identity.ambiguous("Atera Ticketing") with input as _rank_input
}

test_resolve_best_address_beats_display_name if {
	identity.resolve("a@vendor.com") == {"contact:v1", "contact:v3"} with input as _rank_input
	identity.resolve_best("a@vendor.com") == {"contact:v1"} with input as _rank_input
}

test_resolve_best_same_rank_is_ambiguous if {
	identity.resolve_best("Vendor") == {"contact:v1", "contact:v2"} with input as _rank_input
	identity.ambiguous("Vendor") with input as _rank_input
	identity.ref_nodes("Vendor") == {"ambiguous:vendor"} with input as _rank_input
	identity.label("ambiguous:vendor") == `ambiguous reference "vendor" (matches contact "Vendor" <a@vendor.com>, contact "Vendor" <b@vendor.com>)` with input as _rank_input
}

test_resolve_best_unknown_is_empty if {
	identity.resolve_best("nobody") == set() with input as _rank_input
	identity.resolve_best(null) == set() with input as _rank_input
	identity.resolve_best(`NT AUTHORITY\SELF`) == set() with input as _rank_input
}

# ---------------------------------------------------------------------------
# Canonical names and DOMAIN\name references.

_canonical_input := {"snapshot": {"exchange": {
	"Get-Mailbox": [{
		"Name": "b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c",
		"Alias": "helpdesk",
		"SamAccountName": "$K31N00-8UO0GHVQ4B1A",
		"DisplayName": "Helpdesk",
		"Guid": "m1",
		"PrimarySmtpAddress": "helpdesk@contoso.com",
		"DistinguishedName": "CN=b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR11A006,DC=PROD,DC=OUTLOOK,DC=COM",
	}],
	"Get-MailContact": [
		{
			"Name": "Atera Ticketing",
			"Guid": "c1",
			"ExternalEmailAddress": "SMTP:contoso@ticketing.atera.com",
			"DistinguishedName": "CN=Atera Ticketing,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR11A006,DC=PROD,DC=OUTLOOK,DC=COM",
		},
		# the same name in another tenant's OU (a damaged or merged export)
		{
			"Name": "Atera Ticketing",
			"Guid": "c9",
			"ExternalEmailAddress": "SMTP:fabrikam@ticketing.atera.com",
			"DistinguishedName": "CN=Atera Ticketing,OU=fabrikam.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR11A006,DC=PROD,DC=OUTLOOK,DC=COM",
		},
		# an escaped comma in the CN
		{
			"Name": "Smith, John",
			"Guid": "c3",
			"ExternalEmailAddress": "SMTP:john@smith.example",
			"DistinguishedName": "CN=Smith\\, John,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR11A006,DC=PROD,DC=OUTLOOK,DC=COM",
		},
	],
}}}

test_resolve_canonical_name_scoped_to_tenant if {
	ref := "NAMPR11A006.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Atera Ticketing"
	identity.resolve(ref) == {"contact:c1"} with input as _canonical_input
	identity.resolve_best(ref) == {"contact:c1"} with input as _canonical_input
	identity.resolve_best("NAMPR11A006.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/fabrikam.onmicrosoft.com/Atera Ticketing") == {"contact:c9"} with input as _canonical_input
	identity.resolve_best("NAMPR11A006.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Smith, John") == {"contact:c3"} with input as _canonical_input
	identity.resolve_best("NAMPR11A006.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c") == {"mailbox:m1"} with input as _canonical_input
	identity.resolve_best("NAMPR11A006.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/other.onmicrosoft.com/Atera Ticketing") == set() with input as _canonical_input
}

# Without a DistinguishedName (a hand-written snapshot) the last segment is
# matched as a name.
test_resolve_canonical_name_without_dn if {
	i := {"snapshot": {"exchange": {"Get-MailContact": [{"Name": "Atera Ticketing", "Guid": "c1", "ExternalEmailAddress": "SMTP:contoso@ticketing.atera.com"}]}}}
	identity.resolve_best("EURPR05A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Atera Ticketing") == {"contact:c1"} with input as i
}

test_resolve_domain_backslash_name if {
	identity.resolve(`NAMPR11A006\helpdesk`) == {"mailbox:m1"} with input as _canonical_input
	identity.resolve_best(`nampr11a006\$K31N00-8UO0GHVQ4B1A`) == {"mailbox:m1"} with input as _canonical_input
	identity.resolve_best("$K31N00-8UO0GHVQ4B1A") == {"mailbox:m1"} with input as _canonical_input
	identity.resolve_best(`EURPR01A001\helpdesk`) == set() with input as _canonical_input
	identity.resolve(`NT AUTHORITY\SELF`) == set() with input as _canonical_input
}

test_resolve_domain_backslash_name_without_dn if {
	i := {"snapshot": {"exchange": {"Get-Mailbox": [{"Name": "helpdesk", "Alias": "helpdesk", "Guid": "m1", "PrimarySmtpAddress": "helpdesk@contoso.com"}]}}}
	identity.resolve_best(`NAMPR11A006\helpdesk`) == {"mailbox:m1"} with input as i
}

test_known_form if {
	every ref in [
		"Atera Ticketing", "acme@ticketing.atera.com", "SMTP:acme@ticketing.atera.com",
		"b8e1c4a2-3f5d-4e6a-9b7c-1d2e3f4a5b6c",
		"CN=Atera Ticketing,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR11A006,DC=PROD,DC=OUTLOOK,DC=COM",
		"/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc-support",
		`"Atera" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc]`,
		"NAMPR11A006.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Atera Ticketing",
		`NAMPR11A006\helpdesk`,
	] {
		identity.known_form(ref)
	}
	not identity.known_form("contoso.onmicrosoft.com/Users/Atera Ticketing")
	not identity.known_form("O=Contoso/OU=First Administrative Group/CN=Atera")
}
