package ticketguard.lib.snap_test

import data.ticketguard.lib.snap

_input := {"snapshot": {
	"atera": {
		"ticketing_address": "SMTP:Acme@Ticketing.Atera.com ",
		"support_address": "Support@Acme.com",
		"smtp": {"server": "smtp.office365.com", "port": 587},
	},
	"exchange": {
		"Get-Mailbox": [{"Name": "support"}],
		"Get-MailContact": [],
		"Get-TransportRule": [{"Name": "r"}],
		"Get-DistributionGroupMember": {"support@acme.com": [{"Name": "Atera"}], "empty@acme.com": []},
		"Get-AntiPhishRule": {"Name": "single object, not normalised"},
	},
	"graph": {"messageRules": {"support@acme.com": [{"displayName": "fwd"}]}},
	"errors": [
		{"source": "Get-TransportRule", "message": "Access denied"},
		{"source": "get-inboxrule", "error": "The operation couldn't be performed"},
		{"source": "Get-TransportRule", "message": "Retry later"},
	],
}}

test_exchange_absent if snap.exchange == {} with input as {"snapshot": {}}

test_exchange_null if snap.exchange == {} with input as {"snapshot": {"exchange": null}}

test_errored if {
	snap.errored("Get-TransportRule") with input as _input
	snap.errored("Get-InboxRule") with input as _input
	not snap.errored("Get-Mailbox") with input as _input
}

test_error_text_joined if snap.error_text("Get-TransportRule") == "Access denied; Retry later" with input as _input

test_collected_present if snap.collected("Get-Mailbox") with input as _input

test_collected_empty_array_counts if snap.collected("Get-MailContact") with input as _input

test_not_collected_absent if not snap.collected("Get-DistributionGroup") with input as _input

test_not_collected_errored if not snap.collected("Get-TransportRule") with input as _input

test_not_collected_null if not snap.collected("Get-Mailbox") with input as {"snapshot": {"exchange": {"Get-Mailbox": null}}}

test_collected_graph if {
	snap.collected("graph.messageRules") with input as _input
	not snap.collected("graph.contacts") with input as _input
}

test_unavailable_array if {
	snap.unavailable(["Get-Mailbox", "Get-TransportRule", "Get-RemoteDomain"]) == {"Get-TransportRule", "Get-RemoteDomain"} with input as _input
}

test_unavailable_set if snap.unavailable({"Get-Mailbox"}) == set() with input as _input

test_items if snap.items("Get-Mailbox") == [{"Name": "support"}] with input as _input

test_items_absent if snap.items("Get-RemoteDomain") == [] with input as _input

test_items_single_object_wrapped if snap.items("Get-AntiPhishRule") == [{"Name": "single object, not normalised"}] with input as _input

test_per_recipient if {
	snap.per_recipient("Get-DistributionGroupMember", "SMTP:Support@Acme.com") == [{"Name": "Atera"}] with input as _input
}

test_per_recipient_empty_is_defined if snap.per_recipient("Get-DistributionGroupMember", "empty@acme.com") == [] with input as _input

test_per_recipient_absent_recipient if not snap.per_recipient("Get-DistributionGroupMember", "other@acme.com") with input as _input

test_per_recipient_absent_cmdlet if not snap.per_recipient("Get-InboxRule", "support@acme.com") with input as _input

test_per_recipient_graph if snap.per_recipient("graph.messageRules", "support@acme.com") == [{"displayName": "fwd"}] with input as _input

test_per_recipient_all_absent if snap.per_recipient_all("Get-InboxRule") == {} with input as _input

test_addresses_normalised if {
	snap.ticketing_address == "acme@ticketing.atera.com" with input as _input
	snap.support_address == "support@acme.com" with input as _input
	snap.atera_declared with input as _input
}

test_addresses_not_declared if {
	not snap.ticketing_address with input as {"snapshot": {"atera": {"support_address": "support@acme.com"}}}
	not snap.atera_declared with input as {"snapshot": {"atera": {"support_address": "support@acme.com"}}}
	not snap.support_address with input as {"snapshot": {}}
}

test_blank_address_not_declared if not snap.ticketing_address with input as {"snapshot": {"atera": {"ticketing_address": "  "}}}

test_custom_smtp if {
	snap.custom_smtp with input as _input
	snap.smtp.port == 587 with input as _input
}

test_smtp_null if {
	i := {"snapshot": {"atera": {"smtp": null}}}
	not snap.custom_smtp with input as i
	snap.smtp == null with input as i
	snap.smtp_declared with input as i
}

test_smtp_absent if {
	not snap.smtp_declared with input as {"snapshot": {"atera": {}}}
	not snap.custom_smtp with input as {"snapshot": {"atera": {}}}
}

test_missing_message if {
	msg := snap.missing_message(["Get-TransportRule", "Get-Mailbox", "Get-RemoteDomain"]) with input as _input
	msg == "Get-RemoteDomain was not collected; Get-TransportRule failed: Access denied; Retry later"
}

test_missing_message_error_field if {
	snap.missing_message(["Get-InboxRule"]) == "Get-InboxRule failed: The operation couldn't be performed" with input as _input
}

test_missing_message_nothing_missing if snap.missing_message(["Get-Mailbox"]) == "" with input as _input

test_recipient_missing_message if {
	snap.recipient_missing_message("Get-DistributionGroupMember", "x@acme.com") == "Get-DistributionGroupMember for x@acme.com was not collected" with input as _input
	snap.recipient_missing_message("Get-RemoteDomain", "x@acme.com") == "Get-RemoteDomain was not collected" with input as _input
	startswith(snap.recipient_missing_message("Get-InboxRule", "x@acme.com"), "Get-InboxRule failed: ") with input as _input
}

# The collectors record Graph failures as "graph:messageRules" (DESIGN
# "Collector plumbing"); checks name the section "graph.messageRules". Either
# spelling on either side is the same source.
_graph_errors(source) := {"snapshot": {
	"graph": {"messageRules": {"support@acme.com": []}, "contacts": []},
	"errors": [{"source": source, "message": "403 Forbidden: MailboxSettings.Read is missing"}],
}}

test_graph_error_colon_matches_dot_name if {
	inp := _graph_errors("graph:messageRules")
	snap.errored("graph.messageRules") with input as inp
	snap.errored("graph:messageRules") with input as inp
	snap.error_text("graph.messageRules") == "403 Forbidden: MailboxSettings.Read is missing" with input as inp
	not snap.collected("graph.messageRules") with input as inp
	not snap.collected("graph:messageRules") with input as inp
	snap.unavailable(["graph.messageRules", "graph.contacts"]) == {"graph.messageRules"} with input as inp
	snap.missing_message(["graph.messageRules"]) == "graph.messageRules failed: 403 Forbidden: MailboxSettings.Read is missing" with input as inp
	startswith(snap.recipient_missing_message("graph.messageRules", "support@acme.com"), "graph.messageRules failed: ") with input as inp
}

test_graph_error_dot_matches_colon_name if {
	inp := _graph_errors("graph.messageRules")
	snap.errored("graph:messageRules") with input as inp
	not snap.collected("graph:messageRules") with input as inp
	snap.missing_message(["graph:messageRules"]) == "graph:messageRules failed: 403 Forbidden: MailboxSettings.Read is missing" with input as inp
}

test_graph_error_other_section_unaffected if {
	inp := _graph_errors("graph:messageRules")
	not snap.errored("graph.contacts") with input as inp
	snap.collected("graph.contacts") with input as inp
	snap.collected("graph:contacts") with input as inp
	snap.error_text("graph.contacts") == "" with input as inp
}

# The section name after the prefix keeps its case; the prefix spelling is
# the only thing folded besides the usual case-insensitive comparison.
test_graph_error_case_insensitive if {
	snap.errored("graph.messageRules") with input as _graph_errors("Graph:MessageRules")
	not snap.errored("graph.messageRules") with input as _graph_errors("graph-messageRules")
	not snap.errored("Get-InboxRule") with input as _graph_errors("graph:messageRules")
}

test_graph_colon_name_reads_section if {
	snap.per_recipient("graph:messageRules", "support@acme.com") == [{"displayName": "fwd"}] with input as _input
	snap.collected("graph:messageRules") with input as _input
}

# README: "An entry in errors marks its source as failed even if data is
# present". A partial per-recipient read (one recipient's rows fetched, then
# a 403 for the next) must not be read as complete data for anyone.
_errored_with_data := {"snapshot": {
	"exchange": {
		"Get-DistributionGroupMember": {"support@acme.com": [{"Name": "Atera"}]},
		"Get-InboxRule": {"support@acme.com": []},
	},
	"graph": {"messageRules": {"support@acme.com": [{"displayName": "fwd"}]}},
	"errors": [
		{"source": "Get-DistributionGroupMember", "message": "partial: 403 for other@acme.com"},
		{"source": "Get-InboxRule", "message": "timeout"},
		{"source": "graph:messageRules", "message": "429 after 3 attempts"},
	],
}}

test_per_recipient_errored_source_is_undefined if {
	not snap.per_recipient("Get-DistributionGroupMember", "support@acme.com") with input as _errored_with_data
	not snap.per_recipient("Get-InboxRule", "support@acme.com") with input as _errored_with_data
	not snap.per_recipient("graph.messageRules", "support@acme.com") with input as _errored_with_data
}

test_per_recipient_all_errored_source_is_empty if {
	snap.per_recipient_all("Get-DistributionGroupMember") == {} with input as _errored_with_data
	snap.per_recipient_all("Get-InboxRule") == {} with input as _errored_with_data
	snap.per_recipient_all("graph.messageRules") == {} with input as _errored_with_data
}

# The collection planner still sees the rows (asking again would not clear
# the error), through has_entry.
test_has_entry_ignores_errors if {
	snap.has_entry("Get-DistributionGroupMember", "SMTP:Support@acme.com") with input as _errored_with_data
	snap.has_entry("graph:messageRules", "support@acme.com") with input as _errored_with_data
	not snap.has_entry("Get-DistributionGroupMember", "other@acme.com") with input as _errored_with_data
	not snap.has_entry("Get-DistributionGroupMember", "support@acme.com") with input as {"snapshot": {"exchange": {"Get-DistributionGroupMember": {"support@acme.com": null}}}}
}
