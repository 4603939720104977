// Package graph simulates the part of Microsoft Graph v1.0 ticketguard reads,
// as an http.Handler serving paths under /v1.0/, so msgraph-sdk-go talks to it
// unchanged (issue 3 §3):
//
//	GET  /v1.0/users/{id}/mailFolders/inbox/messageRules    messageRule collection
//	POST /v1.0/users/{id}/mailFolders/inbox/messageRules    create a rule (tests: drift, gzip bodies)
//	GET  /v1.0/contacts                                     orgContact collection
//	GET  /v1.0/groups?$filter=mail eq '...'                 group collection (find a group's id)
//	GET  /v1.0/groups/{id}/members                          directoryObject collection with @odata.type
//	GET  /v1.0/admin/exchange/tracing/messageTraces         exchangeMessageTrace collection
//	GET  /v1.0/admin/exchange/tracing/messageTraces/{id}/getDetailsByRecipient(recipientAddress='...')
//	                                                        exchangeMessageTraceDetail collection
//
// Wire behaviour copied from Microsoft's documentation:
//   - collections are {"@odata.context", "value", "@odata.nextLink"}; the next
//     link is absolute and carries every query option plus $skiptoken
//     (https://learn.microsoft.com/graph/paging);
//   - $top is honoured within each API's range (directory: 1-999, message
//     trace: 1-5000), $select returns only the named properties (Outlook
//     entities always keep id; directoryObjects keep @odata.type) and an
//     unknown property is a 400 (https://learn.microsoft.com/graph/query-parameters);
//   - errors are {"error": {"code", "message", "innerError": {"date",
//     "request-id", "client-request-id"}}} (https://learn.microsoft.com/graph/errors);
//   - request bodies may be gzip-compressed (Content-Encoding: gzip), as
//     msgraph-sdk-go sends them by default;
//   - message trace: $filter on receivedDateTime needs both ge and le, the
//     interval may not exceed 10 days, the start may not be more than 90 days
//     ago and the end not in the future; without a date filter the last 48
//     hours are searched; default page 1000, $top up to 5000
//     (https://learn.microsoft.com/graph/api/messagetracingroot-list-messagetraces?view=graph-rest-1.0);
//     items carry id, senderAddress, recipientAddress, messageId,
//     receivedDateTime, subject, size, fromIP, toIP and status (gettingStatus,
//     pending, failed, delivered, expanded, quarantined, filteredAsSpam)
//     (https://learn.microsoft.com/graph/api/resources/exchangemessagetrace?view=graph-rest-1.0);
//     a trace's details (id, messageId, dateTime, event, action, description,
//     data) come from getDetailsByRecipient
//     (https://learn.microsoft.com/graph/api/exchangemessagetrace-getdetailsbyrecipient?view=graph-rest-1.0);
//   - messageRule: id, displayName, sequence, isEnabled, hasError, isReadOnly,
//     conditions and exceptions holding only the predicates that are set,
//     actions with forwardTo / redirectTo / forwardAsAttachmentTo as lists of
//     {"emailAddress": {"name", "address"}}
//     (https://learn.microsoft.com/graph/api/resources/messagerule?view=graph-rest-1.0).
//
// Every request needs a bearer token for https://graph.microsoft.com, checked
// by the Validator; the token's tenant picks the fixture. Faults come from a
// fault.Injector under the endpoint names graph:messageRules, graph:contacts,
// graph:groupMembers (the group look-up and the member listing) and
// graph:messageTraces, whose tenant pattern is matched against the tenant's
// name, then its id.
//
// # Data
//
// A tenant's fixture.Tenant.Graph is served as it is when it has the key:
//
//	"messageRules":  {"<mailbox address>": [messageRule, ...]}
//	"contacts":      [orgContact, ...]
//	"groupMembers":  {"<group address>": [directoryObject with "@odata.type", ...]}
//	"messageTraces": [exchangeMessageTrace, ...]  (or the snapshot form {"items": [...]})
//	"messageTraceDetails": {"<trace id>": [exchangeMessageTraceDetail, ...]}
//
// A trace item may carry its own "details" ([exchangeMessageTraceDetail]), as
// a ticketguard snapshot stores them: getDetailsByRecipient serves those
// (an empty list included), else messageTraceDetails[<trace id>], else
// none. The list of traces never shows "details": exchangeMessageTrace has
// no such property (the collector attaches them itself).
//
// Otherwise the data is derived from the tenant's Exchange fixture, so every
// snapshot in testdata/tenants is servable:
//
//	messageRules   from Get-InboxRule[<address>]:
//	                 id = base64 of RuleIdentity (8 bytes, big-endian),
//	                 displayName = Name, sequence = Priority, isEnabled = Enabled,
//	                 hasError = InError, isReadOnly = false;
//	                 conditions: From -> fromAddresses, SentTo -> sentToAddresses,
//	                 SubjectContainsWords -> subjectContains,
//	                 SubjectOrBodyContainsWords -> bodyOrSubjectContains,
//	                 HeaderContainsWords -> headerContains,
//	                 FromAddressContainsWords -> senderContains,
//	                 MyNameInToOrCcBox -> sentToOrCcMe, HasAttachment -> hasAttachments;
//	                 actions: ForwardTo -> forwardTo, RedirectTo -> redirectTo,
//	                 ForwardAsAttachmentTo -> forwardAsAttachmentTo,
//	                 MoveToFolder / CopyToFolder -> moveToFolder / copyToFolder (an
//	                 opaque folder id), DeleteMessage -> delete, MarkAsRead -> markAsRead,
//	                 StopProcessingRules -> stopProcessingRules.
//	               A recipient string becomes {"emailAddress": {"name", "address"}}:
//	                 "Name" [SMTP:a@b] -> a@b; "Name" [EX:<legacyExchangeDN>] and a
//	                 bare DN -> the PrimarySmtpAddress of the mailbox, group or contact
//	                 with that LegacyExchangeDN (or X500 proxy); a bare address as it
//	                 is; anything unresolved keeps the text as the address, as Graph
//	                 shows a recipient it cannot resolve.
//	               A mailbox (Get-Mailbox) without an entry has no rules ([]),
//	               as when graph.messageRules leaves it out.
//	contacts       from Get-MailContact: id = ExternalDirectoryObjectId (else Guid),
//	                 displayName, mail = ExternalEmailAddress without "SMTP:",
//	                 mailNickname = Alias, proxyAddresses = EmailAddresses, the rest
//	                 null or [] as Graph returns them for a contact made in Exchange.
//	groups         from Get-DistributionGroup: id = ExternalDirectoryObjectId,
//	                 displayName, mail = PrimarySmtpAddress, mailNickname = Alias,
//	                 proxyAddresses, mailEnabled = true, securityEnabled from
//	                 GroupType, groupTypes = []. A groupMembers key with no such
//	                 group gets a group with a stable id derived from its address.
//	groupMembers   from Get-DistributionGroupMember[<group address>], by
//	                 RecipientType: UserMailbox / MailUser -> #microsoft.graph.user
//	                 (userPrincipalName from Get-Mailbox when known), MailContact ->
//	                 #microsoft.graph.orgContact (as contacts), Mail*Group /
//	                 GroupMailbox -> #microsoft.graph.group; dynamic distribution
//	                 groups are not directory objects and are left out. A group
//	                 without an entry has no members ([]).
//	messageTraces  nothing in Exchange to derive them from: no traces ([]),
//	               and no details.
//
// When neither the Graph key nor the Exchange cmdlet it derives from is in
// the fixture (a null value counts as absent, as in a snapshot), the
// endpoint answers 500: the fixture says nothing about that data, and an
// empty answer would let a check pass on data nobody provided.
//
// Inbox rules read the same from both simulators: a mailbox the fixture's
// Get-InboxRule (or graph.messageRules) map leaves out has no rules, here
// and in the Exchange simulator's Get-InboxRule; with neither map, this
// endpoint answers 500 and Get-InboxRule 403 (a role that does not grant
// the cmdlet). Get-InboxRule answers 403 whenever the fixture has no
// Get-InboxRule, even if graph.messageRules is served here: that is a
// tenant whose app holds Global Reader, which may not run the cmdlet.
package graph
