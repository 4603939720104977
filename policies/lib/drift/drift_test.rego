package ticketguard.lib.drift_test

import data.ticketguard.lib.drift

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"ExternalDirectoryObjectId": "C-EDOID",
	"Guid": "c-guid",
	"DistinguishedName": "CN=Atera Ticketing,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com",
	"ExternalEmailAddress": "SMTP:Acme@Ticketing.Atera.com",
	"PrimarySmtpAddress": "acme@ticketing.atera.com",
	"EmailAddresses": ["SMTP:acme@ticketing.atera.com"],
	"WhenChanged": "2026-11-01T10:00:00Z",
}

_mailbox(extra) := object.union(
	{
		"Name": "support",
		"DisplayName": "Support",
		"ExternalDirectoryObjectId": "m-edoid",
		"Guid": "m-guid",
		"PrimarySmtpAddress": "support@acme.com",
		"EmailAddresses": ["SMTP:support@acme.com", "smtp:help@acme.com", "SIP:support@acme.com"],
		"ForwardingAddress": "Atera Ticketing",
		"ForwardingSmtpAddress": null,
		"DeliverToMailboxAndForward": true,
		"RecipientTypeDetails": "SharedMailbox",
		"WhenChanged": "2026-11-01T10:00:00Z",
	},
	extra,
)

_helpdesk := {
	"Name": "helpdesk",
	"DisplayName": "Helpdesk",
	"ExternalDirectoryObjectId": "h-edoid",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"UserPrincipalName": "Helpdesk@acme.com",
}

_group := {
	"Name": "partners",
	"DisplayName": "Partners",
	"ExternalDirectoryObjectId": "g-edoid",
	"PrimarySmtpAddress": "partners@acme.com",
	"RequireSenderAuthenticationEnabled": "True",
	"ManagedBy": ["helpdesk"],
	"AcceptMessagesOnlyFrom": null,
}

_input(exchange) := {"snapshot": {
	"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com", "smtp": null},
	"exchange": object.union(
		{
			"Get-MailContact": [_contact],
			"Get-Mailbox": [_mailbox({}), _helpdesk],
			"Get-DistributionGroup": [_group],
		},
		exchange,
	),
}}

_view(exchange) := v if {
	v := drift.view with input as _input(exchange)
}

_props(exchange, key) := _view(exchange)[key].properties

# ---------------------------------------------------------------------------
# Recipients

test_recipient_keys_are_directory_ids if {
	v := _view({})
	v["mailbox:m-edoid"].kind == "mailbox"
	v["mailbox:m-edoid"].label == `mailbox "Support" <support@acme.com>`
	v["mailbox:m-edoid"].sources == ["Get-Mailbox"]
	v["contact:c-edoid"].kind == "contact"
	v["group:g-edoid"].kind == "group"
}

test_mailbox_properties_are_canonical if {
	p := _props({}, "mailbox:m-edoid")
	p == {
		"DisplayName": "Support",
		"PrimarySmtpAddress": "support@acme.com",
		"EmailAddresses": ["help@acme.com", "support@acme.com"],
		"ForwardingAddress": [{"ref": "contact:c-edoid", "label": `contact "Atera Ticketing" <acme@ticketing.atera.com>`}],
		"ForwardingSmtpAddress": null,
		"DeliverToMailboxAndForward": true,
		"RecipientTypeDetails": "SharedMailbox",
		"UserPrincipalName": null,
	}
}

test_forwarding_address_in_any_form_is_one_value if {
	want := _props({}, "mailbox:m-edoid").ForwardingAddress
	every form in [
		"c-guid",
		"C-EDOID",
		_contact.DistinguishedName,
		"acme@ticketing.atera.com",
		`"Atera Ticketing" [SMTP:Acme@Ticketing.Atera.com]`,
	] {
		_props({"Get-Mailbox": [_mailbox({"ForwardingAddress": form}), _helpdesk]}, "mailbox:m-edoid").ForwardingAddress == want
	}
}

test_email_addresses_order_and_case_do_not_matter if {
	a := _props({}, "mailbox:m-edoid")
	b := _props({"Get-Mailbox": [_mailbox({"EmailAddresses": ["smtp:HELP@acme.com", "SPO:SPO_x", "SMTP:Support@Acme.com"]}), _helpdesk]}, "mailbox:m-edoid")
	a == b
}

test_volatile_fields_are_not_read if {
	a := _view({})
	b := _view({"Get-Mailbox": [_mailbox({"WhenChanged": "2026-11-27T06:00:00Z", "ProhibitSendQuota": "50 GB"}), _helpdesk]})
	a == b
}

test_boolean_strings_and_null_forms if {
	p := _props({"Get-Mailbox": [_mailbox({"DeliverToMailboxAndForward": "False", "ForwardingSmtpAddress": "", "ForwardingAddress": null}), _helpdesk]}, "mailbox:m-edoid")
	p.DeliverToMailboxAndForward == false
	p.ForwardingSmtpAddress == null
	p.ForwardingAddress == []
}

test_forwarding_smtp_address_normalised if {
	p := _props({"Get-Mailbox": [_mailbox({"ForwardingSmtpAddress": "SMTP:Acme@Ticketing.Atera.com "}), _helpdesk]}, "mailbox:m-edoid")
	p.ForwardingSmtpAddress == "acme@ticketing.atera.com"
}

test_unresolved_and_external_references if {
	p := _props({"Get-Mailbox": [_mailbox({"ForwardingAddress": "Nobody Here"}), _helpdesk]}, "mailbox:m-edoid")
	p.ForwardingAddress == [{"ref": "unresolved:nobody here", "label": `unresolved reference "nobody here"`}]
	q := _props({"Get-Mailbox": [_mailbox({"ForwardingAddress": "SMTP:Someone@Elsewhere.example"}), _helpdesk]}, "mailbox:m-edoid")
	q.ForwardingAddress == [{"ref": "external:someone@elsewhere.example", "label": "external address <someone@elsewhere.example>"}]
}

test_group_properties if {
	p := _props({}, "group:g-edoid")
	p.RequireSenderAuthenticationEnabled == true
	p.AcceptMessagesOnlyFrom == []
	p.ManagedBy == [{"ref": "mailbox:h-edoid", "label": `mailbox "Helpdesk" <helpdesk@acme.com>`}]
	not "Members" in object.keys(p)
}

test_group_members_when_collected if {
	rows := [
		{"Name": "helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com", "RecipientType": "UserMailbox"},
		{"Name": "Atera Ticketing", "ExternalDirectoryObjectId": "c-edoid", "RecipientType": "MailContact"},
	]
	p := _props({"Get-DistributionGroupMember": {"partners@acme.com": rows}}, "group:g-edoid")
	p.Members == [
		{"ref": "contact:c-edoid", "label": `contact "Atera Ticketing" <acme@ticketing.atera.com>`},
		{"ref": "mailbox:h-edoid", "label": `mailbox "Helpdesk" <helpdesk@acme.com>`},
	]

	# the same members, listed the other way round and named differently
	q := _props(
		{"Get-DistributionGroupMember": {"partners@acme.com": [
			{"DisplayName": "Atera Ticketing", "PrimarySmtpAddress": "acme@ticketing.atera.com"},
			{"Guid": "x", "ExternalDirectoryObjectId": "h-edoid"},
		]}},
		"group:g-edoid",
	)
	q.Members == p.Members
}

# Graph's member list (collected when Get-DistributionGroupMember was not)
# is the same membership, so it gives the same Members value.
test_group_members_from_graph if {
	v := drift.view with input as {"snapshot": {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
		"exchange": {"Get-Mailbox": [_mailbox({}), _helpdesk], "Get-DistributionGroup": [_group], "Get-MailContact": [_contact]},
		"graph": {"groupMembers": {"partners@acme.com": [
			{"@odata.type": "#microsoft.graph.orgContact", "id": "c-edoid", "displayName": "Atera Ticketing"},
			{"@odata.type": "#microsoft.graph.user", "id": "h-edoid", "mail": "helpdesk@acme.com"},
		]}},
	}}
	v["group:g-edoid"].properties.Members == [
		{"ref": "contact:c-edoid", "label": `contact "Atera Ticketing" <acme@ticketing.atera.com>`},
		{"ref": "mailbox:h-edoid", "label": `mailbox "Helpdesk" <helpdesk@acme.com>`},
	]
}

# Rows of an errored source are not a membership.
test_group_members_errored_left_out if {
	v := drift.view with input as {"snapshot": {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
		"exchange": {
			"Get-Mailbox": [_mailbox({}), _helpdesk], "Get-DistributionGroup": [_group], "Get-MailContact": [_contact],
			"Get-DistributionGroupMember": {"partners@acme.com": [{"Name": "helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com"}]},
		},
		"errors": [{"source": "Get-DistributionGroupMember", "message": "partial"}],
	}}
	not "Members" in object.keys(v["group:g-edoid"].properties)
}

test_empty_membership_is_not_unknown if {
	p := _props({"Get-DistributionGroupMember": {"partners@acme.com": []}}, "group:g-edoid")
	p.Members == []
}

test_references_left_out_when_a_recipient_cmdlet_is_missing if {
	v := drift.view with input as {"snapshot": {
		"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
		"exchange": {"Get-Mailbox": [_mailbox({}), _helpdesk], "Get-DistributionGroup": [_group]},
		"errors": [{"source": "Get-MailContact", "message": "throttled"}],
	}}
	p := v["mailbox:m-edoid"].properties
	not "ForwardingAddress" in object.keys(p)
	p.DeliverToMailboxAndForward == true
	not "ManagedBy" in object.keys(v["group:g-edoid"].properties)
	v["source:Get-MailContact"].properties.collected == false
	v["source:Get-Mailbox"].properties.collected == true
}

test_errored_cmdlet_has_no_objects if {
	v := drift.view with input as {"snapshot": {
		"exchange": {"Get-Mailbox": [_mailbox({})], "Get-MailContact": [_contact], "Get-DistributionGroup": []},
		"errors": [{"source": "Get-Mailbox", "message": "502"}],
	}}
	not v["mailbox:m-edoid"]
	v["contact:c-edoid"]
	v["source:Get-Mailbox"].properties.collected == false
}

test_every_top_level_source_is_listed if {
	v := _view({})
	v["source:Get-TransportRule"] == {
		"kind": "source",
		"label": `source "Get-TransportRule"`,
		"sources": [],
		"properties": {"collected": false},
	}
	v["source:Get-Mailbox"].properties.collected == true
}

# ---------------------------------------------------------------------------
# Policies and rules

_outbound := {
	"Get-HostedOutboundSpamFilterPolicy": [
		{"Name": "Default", "Identity": "Default", "Guid": "p1-guid", "IsDefault": true, "AutoForwardingMode": "off", "WhenChanged": "x"},
		{"Name": "Atera forwarding", "Identity": "Atera forwarding", "Guid": "p2-guid", "IsDefault": "False", "AutoForwardingMode": "On"},
	],
	"Get-HostedOutboundSpamFilterRule": [{
		"Name": "Atera forwarding", "HostedOutboundSpamFilterPolicy": "Atera forwarding",
		"Priority": "0", "State": "enabled",
		"From": ["support@acme.com"], "FromMemberOf": null, "SenderDomainIs": ["Acme.com "],
		"ExceptIfFrom": null, "ExceptIfFromMemberOf": null, "ExceptIfSenderDomainIs": null,
	}],
}

test_outbound_policy_and_rule if {
	v := _view(_outbound)
	v["outbound-policy:default"].properties == {"AutoForwardingMode": "Off", "IsDefault": true}
	v["outbound-policy:atera forwarding"].label == `outbound anti-spam policy "Atera forwarding"`
	v["outbound-policy:atera forwarding"].properties == {"AutoForwardingMode": "On", "IsDefault": false}
	r := v["outbound-rule:atera forwarding"].properties
	r.HostedOutboundSpamFilterPolicy == {"ref": "outbound-policy:atera forwarding", "label": `outbound anti-spam policy "Atera forwarding"`}
	r.Priority == 0
	r.State == "Enabled"
	r.SenderDomainIs == ["acme.com"]
	r.From == [{"ref": "mailbox:m-edoid", "label": `mailbox "Support" <support@acme.com>`}]
	r.ExceptIfFrom == []
}

test_rule_naming_its_policy_by_guid_is_the_same if {
	a := _view(_outbound)["outbound-rule:atera forwarding"].properties
	rule := object.union(_outbound["Get-HostedOutboundSpamFilterRule"][0], {"HostedOutboundSpamFilterPolicy": "P2-GUID", "Priority": 0})
	b := _view(object.union(_outbound, {"Get-HostedOutboundSpamFilterRule": [rule]}))["outbound-rule:atera forwarding"].properties
	a == b
}

test_rule_naming_a_missing_policy if {
	rule := object.union(_outbound["Get-HostedOutboundSpamFilterRule"][0], {"HostedOutboundSpamFilterPolicy": "Gone "})
	p := _view(object.union(_outbound, {"Get-HostedOutboundSpamFilterRule": [rule]}))["outbound-rule:atera forwarding"].properties
	p.HostedOutboundSpamFilterPolicy == {"ref": "outbound-policy:gone", "label": `outbound anti-spam policy "Gone"`}
}

test_duplicate_names_get_unique_keys if {
	v := _view({"Get-RemoteDomain": [
		{"Name": "Atera", "DomainName": "ticketing.atera.com", "AutoForwardEnabled": true},
		{"Name": "atera", "DomainName": "*.atera.com", "AutoForwardEnabled": false},
	]})
	v["remote-domain:atera#0"].properties == {"DomainName": "ticketing.atera.com", "AutoForwardEnabled": true}
	v["remote-domain:atera#1"].properties == {"DomainName": "*.atera.com", "AutoForwardEnabled": false}
}

test_antiphish if {
	v := _view({
		"Get-AntiPhishPolicy": [{"Name": "Atera support", "EnableViaTag": "false", "Enabled": true, "IsDefault": false}],
		"Get-AntiPhishRule": [{"Name": "Atera support", "AntiPhishPolicy": "atera SUPPORT", "Priority": 0, "State": "Enabled", "SentTo": ["Support"], "RecipientDomainIs": null}],
	})
	v["antiphish-policy:atera support"].properties == {"EnableViaTag": false, "Enabled": true, "IsDefault": false, "RecommendedPolicyType": null}
	r := v["antiphish-rule:atera support"].properties
	r.AntiPhishPolicy.ref == "antiphish-policy:atera support"
	r.SentTo == [{"ref": "mailbox:m-edoid", "label": `mailbox "Support" <support@acme.com>`}]
	r.RecipientDomainIs == []
}

test_transport_rule if {
	v := _view({"Get-TransportRule": [{
		"Name": "Block auto-forward", "State": "Enabled", "Mode": "enforce", "Priority": 2,
		"MessageTypeMatches": "AutoForward", "RejectMessageReasonText": " No ",
		"RejectMessageEnhancedStatusCode": "5.7.1", "DeleteMessage": false,
		"RedirectMessageTo": "Atera Ticketing", "ExceptIfSentTo": ["acme@ticketing.atera.com"],
		"ApplyHtmlDisclaimerText": "<p>not read</p>",
	}]})
	p := v["transport-rule:block auto-forward"].properties
	p.Mode == "Enforce"
	p.MessageTypeMatches == ["AutoForward"]
	p.RejectMessageReasonText == "No"
	p.RedirectMessageTo == p.ExceptIfSentTo
	p.RedirectMessageTo == [{"ref": "contact:c-edoid", "label": `contact "Atera Ticketing" <acme@ticketing.atera.com>`}]
	not "ApplyHtmlDisclaimerText" in object.keys(p)
}

# ---------------------------------------------------------------------------
# IPAllowList

_allow(list) := _view({"Get-HostedConnectionFilterPolicy": [{"Name": "Default", "IPAllowList": list}]})["connection-filter:default"].properties.IPAllowList

test_ip_allow_list_is_merged_blocks if {
	_allow(["52.157.175.0/24", "40.113.216.0/25", "40.113.216.128/25", "10.0.0.5", "10.0.0.7", "10.0.0.6"]) == [
		"10.0.0.5-10.0.0.7",
		"40.113.216.0/24",
		"52.157.175.0/24",
	]
}

test_ip_allow_list_order_and_form_do_not_matter if {
	a := _allow(["40.113.216.0/24", "54.240.106.94", "54.240.106.95"])
	b := _allow(["54.240.106.94/31", "40.113.216.0-40.113.216.255"])
	a == b
}

test_ip_allow_list_keeps_invalid_entries if {
	_allow(["2001:db8::/32", "1.2.3.4", null]) == ["1.2.3.4", "2001:db8::/32"]
	_allow(null) == []
}

# ---------------------------------------------------------------------------
# Per-recipient data

test_cas_mailbox_keyed_by_owner if {
	v := _view({"Get-CASMailbox": [{"ExternalDirectoryObjectId": "H-EDOID", "PrimarySmtpAddress": "helpdesk@acme.com", "SmtpClientAuthenticationDisabled": null}]})
	o := v["cas-mailbox:mailbox:h-edoid"]
	o.label == `CAS settings of mailbox "Helpdesk" <helpdesk@acme.com>`
	o.properties == {"SmtpClientAuthenticationDisabled": null}
}

test_send_as if {
	rows := [
		{"Identity": "m-edoid", "Trustee": "NT AUTHORITY\\SELF", "AccessRights": ["SendAs"], "AccessControlType": "Allow"},
		{"Identity": "support", "Trustee": "Helpdesk@acme.com", "AccessRights": "SendAs", "AccessControlType": 0},
	]
	v := _view({"Get-RecipientPermission": rows})
	self := v["recipient-permission:mailbox:m-edoid|principal:nt authority\\self"]
	self.label == `permission on mailbox "Support" <support@acme.com> for NT AUTHORITY\SELF`
	o := v["recipient-permission:mailbox:m-edoid|mailbox:h-edoid"]
	o.properties == {"AccessRights": ["SendAs"], "AccessControlType": "Allow"}

	# a row without Identity is the support recipient's
	w := _view({"Get-RecipientPermission": [{"Trustee": "h-edoid", "AccessRights": ["SendAs"], "AccessControlType": "Allow"}]})
	w["recipient-permission:mailbox:m-edoid|mailbox:h-edoid"].properties == o.properties
}

_inbox_rule(extra) := object.union(
	{
		"Name": "To Atera",
		"Identity": "support\\1234567890",
		"Enabled": true,
		"RedirectTo": [`"Atera Ticketing" [EX:/o=ExchangeLabs/ou=x/cn=Recipients/cn=c-guid-atera]`],
		"ForwardTo": null,
		"ForwardAsAttachmentTo": null,
	},
	extra,
)

test_inbox_rules_that_forward if {
	contact := object.union(_contact, {"LegacyExchangeDN": "/o=ExchangeLabs/ou=x/cn=Recipients/cn=c-guid-atera"})
	v := _view({
		"Get-MailContact": [contact],
		"Get-InboxRule": {"support@acme.com": [
			_inbox_rule({}),
			{"Name": "Newsletters", "Identity": "support\\99", "Enabled": true, "MoveToFolder": "News"},
		]},
	})
	o := v["inbox-rule:mailbox:m-edoid/1234567890"]
	o.label == `inbox rule "To Atera" of mailbox "Support" <support@acme.com>`
	o.sources == ["Get-InboxRule support@acme.com", "Get-Mailbox", "Get-DistributionGroup", "Get-MailContact"]
	o.properties.Enabled == true
	o.properties.RedirectTo == [{"ref": "contact:c-edoid", "label": `contact "Atera Ticketing" <acme@ticketing.atera.com>`}]
	count([k | some k, x in v; x.kind == "inbox-rule"]) == 1
	v["source:Get-InboxRule support@acme.com"].properties.collected == true

	# the owner part of Identity written as a GUID gives the same key
	w := _view({
		"Get-MailContact": [contact],
		"Get-InboxRule": {"support@acme.com": [_inbox_rule({"Identity": "m-guid\\1234567890"})]},
	})
	w["inbox-rule:mailbox:m-edoid/1234567890"].properties == o.properties
}

test_message_rules if {
	rules := {"support@acme.com": [{
		"id": "AQAAAJ5dZqA=", "displayName": "To Atera", "isEnabled": true,
		"actions": {"redirectTo": [{"emailAddress": {"name": "Atera", "address": "Acme@ticketing.atera.com"}}]},
	}]}
	v := drift.view with input as json.patch(_input({}), [{"op": "add", "path": "/snapshot/graph", "value": {"messageRules": rules}}])
	o := v["message-rule:mailbox:m-edoid/aqaaaj5dzqa="]
	o.properties.isEnabled == true
	o.properties.redirectTo == [{"ref": "contact:c-edoid", "label": `contact "Atera Ticketing" <acme@ticketing.atera.com>`}]
	o.properties.forwardTo == []
	v["source:graph.messageRules support@acme.com"].properties.collected == true
}

# ---------------------------------------------------------------------------
# Atera section

test_atera_default_sender if {
	_view({}).atera.properties == {
		"ticketing_address": "acme@ticketing.atera.com",
		"support_address": "support@acme.com",
		"smtp": "default (noreply@atera.com)",
		"smtp.server": null,
		"smtp.port": null,
		"smtp.ssl": null,
		"smtp.username": null,
	}
}

test_atera_custom_smtp if {
	v := drift.view with input as {"snapshot": {
		"atera": {"smtp": {"server": "SMTP.Office365.com.", "port": "587", "ssl": "true", "username": "Helpdesk@acme.com"}},
		"exchange": {},
	}}
	v.atera.properties == {
		"ticketing_address": null,
		"support_address": null,
		"smtp": "custom",
		"smtp.server": "smtp.office365.com",
		"smtp.port": 587,
		"smtp.ssl": true,
		"smtp.username": "helpdesk@acme.com",
	}
}

test_empty_snapshot_has_a_view if {
	v := drift.view with input as {"snapshot": {}}
	v.atera.properties.smtp == null
	v["source:Get-Mailbox"].properties.collected == false
	count([k | some k, o in v; o.kind != "source"; o.kind != "atera"]) == 0
}
