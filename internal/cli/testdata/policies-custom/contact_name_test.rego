package ticketguard.checks.contact_name_test

import data.ticketguard.checks.contact_name

_snapshot(name) := {"snapshot": {
	"atera": {"ticketing_address": "acme@ticketing.atera.com", "support_address": "support@acme.com"},
	"exchange": {"Get-MailContact": [{
		"Name": "atera",
		"DisplayName": name,
		"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com",
		"ExternalDirectoryObjectId": "c0000000-0000-0000-0000-000000000001",
	}]},
}}

test_pass_named_by_convention if {
	some f in contact_name.findings with input as _snapshot("Atera Ticketing")
	f.status == "pass"
}

test_fail_other_name if {
	some f in contact_name.findings with input as _snapshot("atera")
	f.status == "fail"
}

test_indeterminate_not_collected if {
	some f in contact_name.findings with input as {"snapshot": {"exchange": {}}}
	f.status == "indeterminate"
}
