package report

import (
	"time"

	"github.com/ticketguard/ticketguard/internal/result"
)

// The fixture is a hand-made report covering every status, an active and an
// expired waiver, a patched tenant whose patch changed a status, a check
// without findings, a custom check and collection errors.

var (
	chkContact = result.Check{
		ID: "ticketing-contact", Title: "Mail contact for the Atera ticketing address",
		Description: "Mail to the support address can only reach Atera through a mail contact for the ticketing address.",
		Severity:    result.SeverityError, Source: "SPEC §1.1; Get-MailContact.ExternalEmailAddress",
		Remediation: "Exchange admin centre > Recipients > Contacts > Add a mail contact.\nPowerShell: New-MailContact -Name \"Atera Ticketing\" -ExternalEmailAddress acme@ticketing.atera.com",
		Package:     "ticketguard.checks.ticketing_contact", BuiltIn: true,
	}
	chkForwarding = result.Check{
		ID: "external-forwarding", Title: "External forwarding allowed for the support sender",
		Description: "Exchange Online drops automatic forwarding to external addresses unless the outbound policy that applies allows it.",
		Severity:    result.SeverityError, Source: "SPEC §1.3",
		Remediation: "Microsoft Defender > Policies & rules > Anti-spam > Outbound policy > Automatic forwarding rules: On - Forwarding is enabled.\nPowerShell: Set-HostedOutboundSpamFilterPolicy -Identity Default -AutoForwardingMode On",
		Package:     "ticketguard.checks.external_forwarding", BuiltIn: true,
	}
	chkOwner = result.Check{
		ID: "group-owner", Title: "Support distribution group has an owner",
		Description: "A group without an owner cannot be managed by anyone but an administrator.",
		Severity:    result.SeverityWarning, Source: "SPEC §1.2",
		Remediation: "Exchange admin centre > Recipients > Groups > support > Settings > Owners.\nPowerShell: Set-DistributionGroup support@acme.com -ManagedBy admin@acme.com",
		Package:     "ticketguard.checks.group_owner", BuiltIn: true,
	}
	chkVia = result.Check{
		ID: "via-tag", Title: "Anti-phishing \"via\" tag off for the support recipient",
		Severity: result.SeverityWarning, Source: "SPEC §1.6",
		Remediation: "Microsoft Defender > Policies & rules > Anti-phishing > Edit actions > clear Show \"via\" tag.",
		Package:     "ticketguard.checks.via_tag", BuiltIn: true,
	}
	chkSendAs = result.Check{
		ID: "send-as", Title: "Send As permission for the SMTP user",
		Description: "Atera sends as the support address through the SMTP user, which needs Send As on it.",
		Severity:    result.SeverityError, Source: "SPEC §1.5",
		Remediation: "Exchange admin centre > Recipients > Mailboxes > support > Delegation > Send As > add the SMTP user.",
		Package:     "ticketguard.checks.send_as", BuiltIn: true,
	}
	chkRoute = result.Check{
		ID: "support-route", Title: "Support address delivers to the ticketing contact",
		Severity: result.SeverityError, Source: "SPEC §1.2",
		Remediation: "Make support@acme.com a distribution group containing the contact.",
		Package:     "ticketguard.checks.support_route", BuiltIn: true,
	}
	chkCustom = result.Check{
		ID: "acme-naming", Title: "Contact follows the naming convention",
		Severity:    result.SeverityWarning,
		Remediation: "Rename the contact to \"Atera Ticketing\".",
		Package:     "ticketguard.checks.acme_naming", File: "policies/acme_naming.rego",
	}
	fixtureCatalogue = []result.Check{chkContact, chkRoute, chkForwarding, chkOwner, chkVia, chkSendAs, chkCustom}
)

func fixtureReport() *result.Report {
	collected := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	return &result.Report{
		EvaluatedAt: time.Date(2026, 11, 27, 7, 30, 0, 0, time.UTC),
		Tenants: []result.Tenant{
			{
				Name: "acme", TenantID: "00000000-0000-0000-0000-0000000000a1",
				Snapshot: "testdata/tenants/acme.json", CollectedAt: collected, Patched: true,
				Results: []result.CheckResult{
					{
						Check: chkContact, Status: result.Pass, Baseline: result.Pass,
						Message:  `mail contact "Atera Ticketing" <acme@ticketing.atera.com> exists`,
						Findings: []result.Finding{{Status: result.Pass, Message: `mail contact "Atera Ticketing" <acme@ticketing.atera.com> exists`, Resource: "contact:acme@ticketing.atera.com"}},
					},
					{
						Check: chkRoute, Status: result.Pass, Baseline: result.Pass,
						Message:  `support@acme.com is distribution group "Support" containing the ticketing contact (method group)`,
						Findings: []result.Finding{{Status: result.Pass, Message: `support@acme.com is distribution group "Support" containing the ticketing contact (method group)`, Resource: "group:support@acme.com"}},
					},
					{
						Check: chkForwarding, Status: result.Fail, Baseline: result.Pass,
						Message: `outbound spam policy "Default" applies to support@acme.com with AutoForwardingMode "Automatic"`,
						Findings: []result.Finding{
							{Status: result.Pass, Message: `remote domain "Default" (*) has AutoForwardEnabled true`, Resource: "remote-domain:Default"},
							{Status: result.Fail, Message: "outbound spam policy \"Default\" applies to support@acme.com with AutoForwardingMode \"Automatic\";\nAutomatic now behaves as Off: set it to On", Resource: "outbound-policy:Default"},
						},
					},
					{
						Check: chkOwner, Status: result.Warn, Baseline: result.Warn,
						Message:  `distribution group "Support" <support@acme.com> has no owner (ManagedBy is empty)`,
						Findings: []result.Finding{{Status: result.Fail, Message: `distribution group "Support" <support@acme.com> has no owner (ManagedBy is empty)`, Resource: "group:support@acme.com"}},
					},
					{
						Check: chkVia, Status: result.Indeterminate, Baseline: result.Indeterminate,
						Message:  "Get-AntiPhishRule was not collected",
						Findings: []result.Finding{{Status: result.Indeterminate, Message: "Get-AntiPhishRule was not collected"}},
					},
					{
						Check: chkSendAs, Status: result.Waived, Baseline: result.Waived,
						Message:  `helpdesk@acme.com has no Send As permission on "Support" <support@acme.com>`,
						Findings: []result.Finding{{Status: result.Fail, Message: `helpdesk@acme.com has no Send As permission on "Support" <support@acme.com>`, Resource: "group:support@acme.com"}},
						Waiver:   &result.Waiver{Reason: "Send As granted by change CHG-1042 next week", Expires: "2026-12-15", Resource: "group:support@acme.com", Status: result.Fail},
					},
					{
						Check: chkCustom, Status: result.NotApplicable, Baseline: result.NotApplicable,
						Message:  "no contact named by the convention is in scope",
						Findings: []result.Finding{{Status: result.NotApplicable, Message: "no contact named by the convention is in scope"}},
					},
				},
			},
			{
				Name: "contoso", TenantID: "00000000-0000-0000-0000-0000000000c2",
				Snapshot: "testdata/tenants/contoso.json", CollectedAt: collected,
				Errors: []result.SourceError{{Source: "Get-InboxRule", Message: "The operation couldn't be performed because object 'support@contoso.com' couldn't be found."}},
				Results: []result.CheckResult{
					{
						Check: chkContact, Status: result.Fail,
						Message: "no mail contact has ExternalEmailAddress contoso@ticketing.atera.com",
						Findings: []result.Finding{
							{Status: result.Fail, Message: `no mail contact has ExternalEmailAddress contoso@ticketing.atera.com (found: "Atera" SMTP:contoso@ticketing.atera.co)`},
						},
						Waiver: &result.Waiver{Reason: "migration in progress", Expires: "2026-10-31", Expired: true, Status: result.Fail},
					},
					{
						Check: chkRoute, Status: result.Indeterminate,
						Message: "Get-InboxRule failed: The operation couldn't be performed",
					},
					{
						Check: chkForwarding, Status: result.Fail,
						Message: "two transport rules block auto-forwarded mail",
						Findings: []result.Finding{
							{Status: result.Fail, Message: `transport rule "Block auto-forward" (priority 0) rejects AutoForward messages`, Resource: "transport-rule:Block auto-forward"},
							{Status: result.Fail, Message: `transport rule "Legacy block" (priority 3) deletes AutoForward messages`, Resource: "transport-rule:Legacy block"},
						},
					},
					{Check: chkOwner, Status: result.NotApplicable, Message: "the support route is not a distribution group (method mailbox)"},
					{Check: chkVia, Status: result.Pass, Message: `anti-phishing policy "Office365 AntiPhish Default" has EnableViaTag false`},
					{Check: chkSendAs, Status: result.NotApplicable, Message: "Atera sends from its default address (atera.smtp is null)"},
					{Check: chkCustom, Status: result.Warn, Message: `contact "Atera" does not follow the naming convention`},
				},
			},
		},
	}
}
