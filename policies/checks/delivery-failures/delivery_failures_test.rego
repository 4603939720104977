package ticketguard.checks.delivery_failures_test

import data.ticketguard.checks.delivery_failures

# --- fixtures --------------------------------------------------------------

_contact := {
	"Name": "Atera Ticketing",
	"DisplayName": "Atera Ticketing",
	"Identity": "Atera Ticketing",
	"Guid": "5b1c2f9e-0a51-4c44-9d0e-5f1f4f0b6a11",
	"ExternalEmailAddress": "SMTP:acme@ticketing.atera.com",
	"PrimarySmtpAddress": "ateraticketing@acme.com",
	"EmailAddresses": ["SMTP:ateraticketing@acme.com"],
}

_support_mbx := {
	"Name": "support",
	"DisplayName": "Acme Support",
	"Identity": "0c3f4b1e-7a1d-4a57-9f0b-8f6f8a0e2d01",
	"ExternalDirectoryObjectId": "0c3f4b1e-7a1d-4a57-9f0b-8f6f8a0e2d01",
	"PrimarySmtpAddress": "support@acme.com",
	"EmailAddresses": ["SMTP:support@acme.com"],
	"ForwardingAddress": "Atera Ticketing",
	"ForwardingSmtpAddress": null,
	"DeliverToMailboxAndForward": true,
}

_policy(mode) := {"Name": "Default", "Identity": "Default", "IsDefault": true, "AutoForwardingMode": mode}

# Graph exchangeMessageTrace items (SPEC §3): senderAddress, recipientAddress,
# receivedDateTime, subject, status.
_item(t, sender, subject, status) := {
	"id": concat("-", ["trace", t]),
	"senderAddress": sender,
	"recipientAddress": "acme@ticketing.atera.com",
	"receivedDateTime": t,
	"subject": subject,
	"status": status,
	"size": 20480,
}

_delivered := [
	_item("2026-11-26T09:12:44Z", "alice@customer.com", "Printer on floor 2 is jammed", "Delivered"),
	_item("2026-11-26T13:01:02Z", "bob@customer.com", "VPN drops every hour", "Delivered"),
	_item("2026-11-27T05:40:10Z", "carol@customer.com", "New starter on Monday", "Delivered"),
]

_pending := _item("2026-11-27T05:58:00Z", "dan@customer.com", "Password reset", "GettingStatus")

_trace(items) := {
	"recipient": "acme@ticketing.atera.com",
	"start": "2026-11-26T06:00:00Z",
	"end": "2026-11-27T06:00:00Z",
	"items": items,
}

_base := {
	"now": "2026-11-27T06:00:00Z",
	"now_ns": 1795759200000000000,
	"snapshot": {
		"atera": {"ticketing_address": "Acme@Ticketing.Atera.com", "support_address": "support@acme.com", "smtp": null},
		"exchange": {
			"Get-Mailbox": [_support_mbx],
			"Get-MailContact": [_contact],
			"Get-DistributionGroup": [],
			"Get-TransportRule": [],
			"Get-HostedOutboundSpamFilterPolicy": [_policy("On")],
			"Get-HostedOutboundSpamFilterRule": [],
		},
		"graph": {"messageTraces": _trace(array.concat(_delivered, [_pending]))},
	},
}

_with_items(items) := object.union(_base, {"snapshot": {"graph": {"messageTraces": {"items": items}}}})

_with_policy(inp, mode) := object.union(inp, {"snapshot": {"exchange": {"Get-HostedOutboundSpamFilterPolicy": [_policy(mode)]}}})

_run(inp) := fs if {
	fs := delivery_failures.findings with input as inp
}

_statuses(fs) := {f.status | some f in fs}

_has(fs, st, texts) if {
	some f in fs
	f.status == st
	every t in texts {
		contains(f.message, t)
	}
}

_message(fs, st) := m if {
	some f in fs
	f.status == st
	m := f.message
}

_refused_520 := {
	"id": "trace-refused",
	"senderAddress": "erin@customer.com",
	"recipientAddress": "acme@ticketing.atera.com",
	"receivedDateTime": "2026-11-26T21:14:03.517Z",
	"subject": "Outlook keeps asking for my password since this morning, please help urgently",
	"status": "Failed",
	"details": _details("2026-11-26T21:14:03Z", "Reason: [{LED=550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your administrative group for further assistance. AS(7555)};{MSG=};{FQDN=};{IP=};{LRT=}]. OutboundProxyTargetIP: . OutboundProxyTargetHostName: "),
}

# exchangeMessageTraceDetail events as the Graph collector attaches them to a
# failed item (getDetailsByRecipient): a Receive, then the Fail with the reason.
_details(t, reason) := [
	{
		"id": "0ff9d95f-62c3-5142-9950-1cfe47b1b6cb",
		"messageId": "<BY5PR04MB6803DAD93868AF152F073B85@BY5PR04MB6803.namprd04.prod.outlook.com>",
		"dateTime": t,
		"event": "Receive",
		"action": "",
		"description": "Message received by: BY5PR04MB6803.namprd04.prod.outlook.com",
		"data": null,
	},
	{
		"id": "e8b457a0-92c9-58fe-a18c-2c707ab1582a",
		"messageId": "<BY5PR04MB6803DAD93868AF152F073B85@BY5PR04MB6803.namprd04.prod.outlook.com>",
		"dateTime": t,
		"event": "Fail",
		"action": "",
		"description": reason,
		"data": null,
	},
]

_failed_plain := _item("2026-11-26T22:00:00Z", "frank@customer.com", "Laptop will not boot", "Failed")

# --- pass ------------------------------------------------------------------

test_pass_all_delivered_counts if {
	fs := _run(_base)
	_statuses(fs) == {"pass"}
	count(fs) == 1
	_has(fs, "pass", ["acme@ticketing.atera.com", "3 delivered, 0 failed, 1 pending", "in the last 24 h (2026-11-26T06:00:00Z to 2026-11-27T06:00:00Z)"])
	some f in fs
	f.resource == "address:acme@ticketing.atera.com"
}

test_pass_no_mail_says_so if {
	fs := _run(_with_items([]))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["no mail to the ticketing address acme@ticketing.atera.com in the last 24 h", "nothing was delivered either", "support@acme.com"])
}

# Items to another recipient are not mail to the ticketing address.
test_pass_other_recipients_ignored if {
	other := object.union(_failed_plain, {"recipientAddress": "someone@else.com"})
	fs := _run(_with_items([other]))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["no mail to the ticketing address"])
}

test_pass_other_statuses_counted_not_failed if {
	fs := _run(_with_items(array.concat(_delivered, [_item("2026-11-26T10:00:00Z", "gail@customer.com", "Spam?", "Quarantined")])))
	_statuses(fs) == {"pass"}
	_has(fs, "pass", ["3 delivered, 0 failed, 0 pending, 1 other (Quarantined 1)"])
}

# --- fail ------------------------------------------------------------------

test_fail_5_7_520_names_external_forwarding_fix if {
	fs := _run(_with_items(array.concat(_delivered, [_refused_520])))
	_statuses(fs) == {"fail"}
	m := _message(fs, "fail")
	contains(m, "1 message to the ticketing address acme@ticketing.atera.com failed in the last 24 h")
	contains(m, "3 delivered, 1 failed, 0 pending")
	contains(m, "2026-11-26T21:14:03.517Z from erin@customer.com")
	contains(m, "(status Failed; 550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your administrative group for further assistance. AS(7555))")
	contains(m, "1 of them was refused with 550 5.7.520")
	contains(m, "AutoForwardingMode On")
	contains(m, "Set-HostedOutboundSpamFilterPolicy")
	contains(m, "ticketguard policy explain external-forwarding")

	# The subject is cut to keep the finding readable.
	contains(m, `"Outlook keeps asking for my password since this morning, ..."`)
	not contains(m, "urgently")
}

# The detail says 5.7.520 and the policy that applies is Off: both are named.
test_fail_5_7_520_names_the_blocking_policy if {
	fs := _run(_with_policy(_with_items([_refused_520]), "Off"))
	_has(fs, "fail", [
		"1 of them was refused with 550 5.7.520",
		`Now outbound anti-spam policy "Default" applies to mailbox "Acme Support" <support@acme.com> and has AutoForwardingMode = Off`,
	])
}

# "5.7.520" in what a customer wrote (the subject) is not a reason.
test_fail_subject_is_not_a_reason if {
	item := object.union(_failed_plain, {"subject": "Re: 550 5.7.520 when I forward"})
	fs := _run(_with_items([item]))
	_statuses(fs) == {"fail"}
	not _has(fs, "fail", ["refused with 550 5.7.520"])
	_has(fs, "fail", ["read the reason"])
}

# Another reply code in the details is shown and looked up, not blamed on forwarding.
test_fail_other_reason_from_details if {
	item := object.union(_failed_plain, {"details": _details("2026-11-26T22:00:00Z", "Reason: [{LED=550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup};{MSG=};{FQDN=};{IP=};{LRT=}]")})
	fs := _run(_with_items([item]))
	_has(fs, "fail", ["(status Failed; 550 5.1.10 RESOLVER.ADR.RecipientNotFound)", "look the codes up"])
	not _has(fs, "fail", ["refused with 550 5.7.520"])
}

# The details could not be read: the finding says so.
test_fail_details_errored if {
	inp := object.union(_with_items([_failed_plain]), {"snapshot": {"errors": [{"source": "graph:messageTraceDetails", "message": "details of message trace trace-x: 429 Too Many Requests"}]}})
	fs := _run(inp)
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["The details of the failed messages could not be read (graph:messageTraceDetails failed: details of message trace trace-x: 429 Too Many Requests)"])
}

# No status detail, but the applicable policy is Automatic: name the fix.
test_fail_policy_not_on_names_fix if {
	fs := _run(_with_policy(_with_items([_failed_plain]), "Automatic"))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", [
		"frank@customer.com",
		"Laptop will not boot",
		`outbound anti-spam policy "Default" applies to mailbox "Acme Support" <support@acme.com> and has AutoForwardingMode = Automatic`,
		"ticketguard policy explain external-forwarding",
	])
	not _has(fs, "fail", ["were refused", "was refused"])
}

test_fail_unknown_cause_points_at_trace if {
	fs := _run(_with_items([_failed_plain]))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["Laptop will not boot", "read the reason"])
	not _has(fs, "fail", ["ticketguard policy explain"])
}

test_fail_bounced_any_case if {
	fs := _run(_with_items([object.union(_failed_plain, {"status": "BOUNCED"})]))
	_statuses(fs) == {"fail"}
	_has(fs, "fail", ["(status BOUNCED)", "0 delivered, 1 failed"])
}

test_fail_lists_five_newest if {
	items := [_item(sprintf("2026-11-26T1%d:00:00Z", [i]), sprintf("user%d@customer.com", [i]), sprintf("Ticket %d", [i]), "Failed") | some i in numbers.range(0, 6)]
	fs := _run(_with_items(items))
	m := _message(fs, "fail")
	contains(m, "7 messages to the ticketing address")
	contains(m, "; and 2 more.")
	contains(m, "user6@customer.com")
	contains(m, "user2@customer.com")
	not contains(m, "user1@customer.com")
	not contains(m, "user0@customer.com")

	# Newest first.
	indexof(m, "user6@customer.com") < indexof(m, "user5@customer.com")
}

# Items without recipientAddress are the trace's recipient's.
test_fail_item_without_recipient_address if {
	fs := _run(_with_items([object.remove(_failed_plain, ["recipientAddress"])]))
	_statuses(fs) == {"fail"}
}

# --- indeterminate -----------------------------------------------------------

test_indeterminate_section_missing if {
	fs := _run({"now": _base.now, "now_ns": _base.now_ns, "snapshot": object.remove(_base.snapshot, ["graph"])})
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["graph.messageTraces is not in the snapshot", "ticketguard collect"])
}

test_indeterminate_source_errored if {
	inp := object.union(
		{"now": _base.now, "now_ns": _base.now_ns, "snapshot": object.remove(_base.snapshot, ["graph"])},
		{"snapshot": {"errors": [{"source": "graph:messageTraces", "message": "403 Forbidden: Authorization_RequestDenied"}]}},
	)
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["graph:messageTraces failed: 403 Forbidden: Authorization_RequestDenied", "ExchangeMessageTrace.Read.All"])
}

# An error wins over a trace that may be partial.
test_indeterminate_errored_with_partial_trace if {
	inp := object.union(_with_items([]), {"snapshot": {"errors": [{"source": "graph:messageTraces", "message": "page 3: 503 Service Unavailable"}]}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["503 Service Unavailable"])
}

test_indeterminate_ticketing_address_undeclared if {
	inp := object.union(_base, {"snapshot": {"atera": {"ticketing_address": null}}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["atera.ticketing_address is not declared"])
}

test_indeterminate_trace_of_another_address if {
	inp := object.union(_base, {"snapshot": {"graph": {"messageTraces": {"recipient": "old@ticketing.atera.com"}}}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", [`"old@ticketing.atera.com"`, "acme@ticketing.atera.com", "collect again"])
}

test_indeterminate_items_not_an_array if {
	inp := object.union(_base, {"snapshot": {"graph": {"messageTraces": {"items": null}}}})
	fs := _run(inp)
	_statuses(fs) == {"indeterminate"}
	_has(fs, "indeterminate", ["no items array"])
}
