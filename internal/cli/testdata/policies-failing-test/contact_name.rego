# METADATA
# title: Ticketing contact is named "Atera Ticketing"
# description: >-
#   A house rule of the MSP: technicians find the contact by name, so every
#   tenant names it the same way.
# custom:
#   id: contact-name
#   severity: warning
#   source: "MSP runbook §4"
#   remediation: |-
#     Exchange admin centre > Recipients > Contacts > the Atera contact > General > Display name: Atera Ticketing.
#     PowerShell: Set-MailContact -Identity "<contact>" -DisplayName "Atera Ticketing"
package ticketguard.checks.contact_name

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap

findings contains f if {
	not snap.collected("Get-MailContact")
	f := {"status": "indeterminate", "message": snap.missing_message(["Get-MailContact"])}
}

findings contains f if {
	snap.collected("Get-MailContact")
	count(route.ticketing_contacts) == 0
	f := {"status": "not_applicable", "message": "no ticketing contact to check (see ticketing-contact)"}
}

findings contains f if {
	some key in route.ticketing_contacts
	name := identity.recipients[key].object.DisplayName
	f := {
		"status": _status(name),
		"message": sprintf("%s has DisplayName %q", [identity.label(key), name]),
		"resource": key,
	}
}

_status(name) := "pass" if name == "Atera Ticketing"

_status(name) := "fail" if name != "Atera Ticketing"
