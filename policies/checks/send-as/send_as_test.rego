package ticketguard.checks.send_as_test

import data.ticketguard.checks.send_as

# --- fixtures --------------------------------------------------------------

_facts := {"office365_smtp": {"server": "smtp.office365.com", "ports_ok": [587, 25], "ports_unsupported": [465]}}

# Support mailbox: Identity is the ExternalDirectoryObjectId GUID (recent tenant).
_support_mbx := {
	"Name": "Support",
	"Alias": "support",
	"DisplayName": "Acme Support",
	"Identity": "6fef5e0d-3093-46e0-8d67-28738686cef7",
	"ExternalDirectoryObjectId": "6fef5e0d-3093-46e0-8d67-28738686cef7",
	"Guid": "510e471c-0361-4820-95f8-a6673b05a865",
	"ExchangeObjectId": "d599f831-fe22-4fcb-b916-21fad3a28efa",
	"DistinguishedName": "CN=support,OU=acme.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com",
	"PrimarySmtpAddress": "support@acme.com",
	"UserPrincipalName": "support@acme.onmicrosoft.com",
	"EmailAddresses": ["SMTP:support@acme.com", "smtp:support@acme.onmicrosoft.com", "SPO:SPO_1c2b@SPO_5e1a"],
	"RecipientTypeDetails": "SharedMailbox",
}

# The SMTP user: its UPN (what Trustee shows) is not one of its proxy addresses.
_helpdesk_mbx := {
	"Name": "helpdesk",
	"Alias": "helpdesk",
	"DisplayName": "Helpdesk Sender",
	"Identity": "12216464-9f04-499d-b987-ca402361f2d6",
	"ExternalDirectoryObjectId": "12216464-9f04-499d-b987-ca402361f2d6",
	"Guid": "a54c74b9-53ae-4e3b-954d-ec83b4d0c169",
	"ExchangeObjectId": "84faf81a-af28-40bc-9366-b3a7af503ffc",
	"PrimarySmtpAddress": "helpdesk@acme.com",
	"UserPrincipalName": "hd.sender@acme.onmicrosoft.com",
	"EmailAddresses": ["SMTP:helpdesk@acme.com", "smtp:helpdesk@acme.mail.onmicrosoft.com"],
	"RecipientTypeDetails": "UserMailbox",
}

_bob_mbx := {
	"Name": "bob",
	"Alias": "bob",
	"DisplayName": "Bob Tech",
	"Identity": "e79ee19f-96d6-41c1-b0be-de33cce652e9",
	"ExternalDirectoryObjectId": "e79ee19f-96d6-41c1-b0be-de33cce652e9",
	"PrimarySmtpAddress": "bob@acme.com",
	"UserPrincipalName": "bob@acme.com",
	"EmailAddresses": ["SMTP:bob@acme.com"],
	"RecipientTypeDetails": "UserMailbox",
}

_self_row := {
	"Identity": "Support",
	"Trustee": "NT AUTHORITY\\SELF",
	"AccessControlType": "Allow",
	"AccessRights": ["SendAs"],
	"IsInherited": false,
	"InheritanceType": "None",
}

_helpdesk_row := {
	"Identity": "Support",
	"Trustee": "hd.sender@acme.onmicrosoft.com",
	"AccessControlType": "Allow",
	"AccessRights": ["SendAs"],
	"IsInherited": false,
	"InheritanceType": "None",
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {
			"ticketing_address": "acme@ticketing.atera.com",
			"support_address": "Support@Acme.com",
			"smtp": {"server": "smtp.office365.com", "port": 587, "username": "helpdesk@acme.com", "ssl": true},
		},
		"exchange": {
			"Get-Mailbox": [_support_mbx, _helpdesk_mbx, _bob_mbx],
			"Get-DistributionGroup": [],
			"Get-MailContact": [],
			"Get-RecipientPermission": [_self_row, _helpdesk_row],
		},
	},
}

_with_rows(rows) := object.union(_base, {"snapshot": {"exchange": {"Get-RecipientPermission": rows}}})

_with_smtp(s) := object.union(_base, {"snapshot": {"atera": {"smtp": s}}})

_run(inp) := fs if {
	fs := send_as.findings with input as inp with data.ticketguard.facts as _facts
}

_statuses(fs) := {f.status | some f in fs}

# _only(fs, status) is the single finding, asserting there is exactly one.
_only(fs, status) := f if {
	count(fs) == 1
	some f in fs
	f.status == status
}

# --- pass ------------------------------------------------------------------

test_pass_trustee_is_upn_of_smtp_user if {
	f := _only(_run(_base), "pass")
	contains(f.message, "helpdesk@acme.com")
	contains(f.message, `mailbox "Acme Support"`)
	contains(f.message, "Allow SendAs for hd.sender@acme.onmicrosoft.com")
	f.resource == "mailbox:support@acme.com"
}

test_pass_rows_without_identity_and_comma_joined_rights if {
	row := {"Trustee": "helpdesk@acme.com", "AccessControlType": "allow", "AccessRights": "SendAs, ReadPermission"}
	f := _only(_run(_with_rows([{"Trustee": "NT AUTHORITY\\SELF", "AccessControlType": "Allow", "AccessRights": "SendAs"}, row])), "pass")
	contains(f.message, "Allow ReadPermission,SendAs for helpdesk@acme.com")
}

test_pass_integer_enums if {
	row := {"Identity": "support", "Trustee": "helpdesk@acme.com", "AccessControlType": 0, "AccessRights": 1}
	_only(_run(_with_rows([row])), "pass")
}

test_pass_identity_as_guid_and_user_given_by_upn if {
	row := object.union(_helpdesk_row, {"Identity": "6fef5e0d-3093-46e0-8d67-28738686cef7", "Trustee": "Helpdesk@Acme.com"})
	inp := object.union(_with_rows([_self_row, row]), {"snapshot": {"atera": {"smtp": {"username": "HD.Sender@acme.onmicrosoft.com"}}}})
	f := _only(_run(inp), "pass")
	contains(f.message, "HD.Sender@acme.onmicrosoft.com")
}

test_pass_support_is_distribution_group if {
	group := {
		"Name": "Support",
		"DisplayName": "Support",
		"Identity": "Support",
		"Guid": "20804437-f6b8-4309-82eb-017e905b2711",
		"PrimarySmtpAddress": "support@acme.com",
		"EmailAddresses": ["SMTP:support@acme.com"],
	}
	mbx := [_helpdesk_mbx, _bob_mbx]
	inp := object.union(_base, {"snapshot": {"exchange": {"Get-Mailbox": mbx, "Get-DistributionGroup": [group]}}})
	f := _only(_run(inp), "pass")
	contains(f.message, `group "Support"`)
	f.resource == "group:support@acme.com"
}

# A custom host that is not Microsoft's still counts as Office 365 when the
# SMTP user is a mailbox of the tenant (DESIGN "Check semantics decided").
test_pass_non_microsoft_host_with_tenant_user_is_checked if {
	inp := _with_smtp({"server": "mail.acme.com"})
	_only(_run(inp), "pass")
}

# --- fail ------------------------------------------------------------------

test_fail_only_self_row if {
	f := _only(_run(_with_rows([_self_row])), "fail")
	contains(f.message, "only NT AUTHORITY\\SELF")
	contains(f.message, "helpdesk@acme.com")
	contains(f.message, "support@acme.com")
}

test_fail_no_rows if {
	f := _only(_run(_with_rows([])), "fail")
	contains(f.message, "rows: none")
}

test_fail_deny_wins_over_allow if {
	deny := object.union(_helpdesk_row, {"AccessControlType": "Deny", "Trustee": "helpdesk@acme.com"})
	f := _only(_run(_with_rows([_self_row, _helpdesk_row, deny])), "fail")
	contains(f.message, "Deny row for SMTP user helpdesk@acme.com")
	contains(f.message, "Deny SendAs for helpdesk@acme.com")
}

test_fail_send_as_granted_to_someone_else if {
	bob := object.union(_helpdesk_row, {"Trustee": "bob@acme.com"})
	f := _only(_run(_with_rows([_self_row, bob])), "fail")
	contains(f.message, "Allow SendAs for bob@acme.com")
}

test_fail_grant_is_on_another_recipient if {
	other := object.union(_helpdesk_row, {"Identity": "bob"})
	f := _only(_run(_with_rows([_self_row, other])), "fail")
	contains(f.message, "only NT AUTHORITY\\SELF")
}

test_fail_row_without_send_as_right if {
	row := object.union(_helpdesk_row, {"AccessRights": ["ReadPermission"]})
	f := _only(_run(_with_rows([row])), "fail")
	contains(f.message, "Allow ReadPermission for hd.sender@acme.onmicrosoft.com")
}

test_fail_unknown_access_control_type_does_not_grant if {
	row := {"Trustee": "helpdesk@acme.com", "AccessRights": ["SendAs"]}
	f := _only(_run(_with_rows([row])), "fail")
	contains(f.message, "unknown SendAs for helpdesk@acme.com")
}

# --- indeterminate ---------------------------------------------------------

test_indeterminate_atera_section_missing if {
	f := _only(_run(json.remove(_base, ["snapshot/atera"])), "indeterminate")
	contains(f.message, "atera section is missing")
}

test_indeterminate_smtp_not_declared if {
	f := _only(_run(json.remove(_base, ["snapshot/atera/smtp"])), "indeterminate")
	contains(f.message, "atera.smtp is not declared")
}

test_indeterminate_support_address_not_declared if {
	f := _only(_run(json.remove(_base, ["snapshot/atera/support_address"])), "indeterminate")
	contains(f.message, "atera.support_address")
}

test_indeterminate_username_not_declared if {
	f := _only(_run(json.remove(_base, ["snapshot/atera/smtp/username"])), "indeterminate")
	contains(f.message, "atera.smtp.username")
}

test_indeterminate_recipient_permission_not_collected if {
	f := _only(_run(json.remove(_base, ["snapshot/exchange/Get-RecipientPermission"])), "indeterminate")
	contains(f.message, "Get-RecipientPermission was not collected")
}

test_indeterminate_recipient_permission_errored if {
	inp := object.union(_base, {"snapshot": {"errors": [{"source": "Get-RecipientPermission", "message": "The operation couldn't be performed because object 'support@acme.com' couldn't be found"}]}})
	f := _only(_run(inp), "indeterminate")
	contains(f.message, "Get-RecipientPermission failed: The operation couldn't be performed")
}

test_indeterminate_mailboxes_not_collected if {
	f := _only(_run(json.remove(_base, ["snapshot/exchange/Get-Mailbox"])), "indeterminate")
	contains(f.message, "Get-Mailbox was not collected")
}

test_indeterminate_support_unknown_and_rows_unattributable if {
	inp := object.union(_with_rows([object.union(_helpdesk_row, {"Identity": "Helpdesk Team"})]), {"snapshot": {"exchange": {"Get-Mailbox": [_helpdesk_mbx]}}})
	f := _only(_run(inp), "indeterminate")
	contains(f.message, "support@acme.com is not a mailbox or distribution group")
	contains(f.message, "on Helpdesk Team")
}

# --- not applicable --------------------------------------------------------

test_not_applicable_default_sender if {
	f := _only(_run(_with_smtp(null)), "not_applicable")
	contains(f.message, "noreply@atera.com")
}

test_not_applicable_smtp_user_is_support if {
	inp := _with_smtp({"username": "SMTP:support@acme.onmicrosoft.com"})
	f := _only(_run(inp), "not_applicable")
	contains(f.message, "is the support recipient")
	contains(f.message, `mailbox "Acme Support" <support@acme.com>`)
}

test_not_applicable_not_office365 if {
	inp := _with_smtp({"server": "smtp.gmail.com", "username": "acme.tickets@gmail.com", "port": 465})
	f := _only(_run(inp), "not_applicable")
	contains(f.message, "custom SMTP server smtp.gmail.com is not Office 365")
	contains(f.message, "acme.tickets@gmail.com")
}

# --- Deny rows that cannot be tied to anyone ---------------------------------

# A Deny row whose Trustee names nobody in the snapshot (the DOMAIN\alias of a
# mailbox Get-Mailbox did not return, a SID) may be the SMTP user: Deny wins,
# so the Allow row proves nothing.
test_indeterminate_deny_row_trustee_unresolved if {
	every trustee in [`NAMPR11A006\formerstaff`, "S-1-5-21-3623811015-3361044348-30300820-1013"] {
		deny := {"Identity": "Support", "Trustee": trustee, "AccessControlType": "Deny", "AccessRights": ["SendAs"], "IsInherited": false}
		f := _only(_run(_with_rows([_self_row, _helpdesk_row, deny])), "indeterminate")
		contains(f.message, concat("", [`a Deny row for "`, trustee, `" could not be resolved`]))
		contains(f.message, "it may deny the SMTP user")
		contains(f.message, "SMTP user helpdesk@acme.com has an Allow Send As row")
	}
}

test_indeterminate_deny_row_trustee_not_a_name if {
	deny := {"Identity": "Support", "Trustee": {}, "AccessControlType": "Deny", "AccessRights": ["SendAs"]}
	f := _only(_run(_with_rows([_self_row, _helpdesk_row, deny])), "indeterminate")
	contains(f.message, "a Deny row for {} could not be resolved")
}

# The SMTP user's own Deny row whose AccessRights cannot be read may deny SendAs.
test_indeterminate_user_deny_row_rights_unreadable if {
	deny := object.union(_helpdesk_row, {"AccessControlType": "Deny", "AccessRights": {}})
	f := _only(_run(_with_rows([_self_row, _helpdesk_row, deny])), "indeterminate")
	contains(f.message, `a Deny row for "hd.sender@acme.onmicrosoft.com" has AccessRights = {}`)
}

# A Deny for a resolvable recipient that is not the SMTP user, or for a right
# other than SendAs, does not concern it.
test_pass_deny_row_for_someone_else if {
	bob := {"Identity": "Support", "Trustee": "bob@acme.com", "AccessControlType": "Deny", "AccessRights": ["SendAs"]}
	other_right := {"Identity": "Support", "Trustee": `NAMPR11A006\formerstaff`, "AccessControlType": "Deny", "AccessRights": ["ReadPermission"]}
	_only(_run(_with_rows([_self_row, _helpdesk_row, bob, other_right])), "pass")
}

_staff_group := {
	"Name": "Helpdesk staff",
	"DisplayName": "Helpdesk staff",
	"Identity": "Helpdesk staff",
	"Guid": "3c0e9d55-55a1-4a4e-a0c9-4b8c1f2e7d10",
	"PrimarySmtpAddress": "helpdesk-staff@acme.com",
	"EmailAddresses": ["SMTP:helpdesk-staff@acme.com"],
}

_group_deny := {"Identity": "Support", "Trustee": "Helpdesk staff", "AccessControlType": "Deny", "AccessRights": ["SendAs"]}

_with_group(members) := object.union(_with_rows([_self_row, _helpdesk_row, _group_deny]), {"snapshot": {"exchange": {
	"Get-DistributionGroup": [_staff_group],
	"Get-DistributionGroupMember": members,
}}})

# A Deny for a group the SMTP user is in denies the user.
test_fail_deny_through_group_membership if {
	inp := _with_group({"helpdesk-staff@acme.com": [{"Name": "helpdesk", "PrimarySmtpAddress": "helpdesk@acme.com", "RecipientType": "UserMailbox"}]})
	f := _only(_run(inp), "fail")
	contains(f.message, "Deny row for SMTP user helpdesk@acme.com (or a group it is a member of)")
	contains(f.message, "Deny SendAs for Helpdesk staff")
}

test_indeterminate_deny_for_group_with_unknown_members if {
	f := _only(_run(_with_group({})), "indeterminate")
	contains(f.message, `a Deny row for group "Helpdesk staff", whose members are not all in the snapshot`)
}

test_pass_deny_for_group_without_the_user if {
	inp := _with_group({"helpdesk-staff@acme.com": [{"Name": "bob", "PrimarySmtpAddress": "bob@acme.com", "RecipientType": "UserMailbox"}]})
	_only(_run(inp), "pass")
}
