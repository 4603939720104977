# METADATA
# title: Mail contact for the Atera ticketing address
# description: >-
#   Exchange Online can only deliver the support address's mail to Atera through a
#   mail contact whose external address is the Atera ticketing address. Without it
#   (or with a typo in it) customers' e-mails never become tickets, and nothing tells
#   them: the mail is accepted and then lost or bounced to the wrong place.
# custom:
#   id: ticketing-contact
#   severity: error
#   source: "SPEC §1.1 and §2 (contact); Get-MailContact.ExternalEmailAddress"
#   remediation: |-
#     1. In Atera: Admin > Email settings, copy the ticketing address (for example acme@ticketing.atera.com).
#     2. Exchange admin centre > Recipients > Contacts > Add a contact > Mail contact: Display name "Atera Ticketing",
#        External email address = the ticketing address copied in step 1. Save.
#     3. If a contact already exists with a mistyped address, open it (Recipients > Contacts > the contact >
#        General) and correct the external email address instead of adding a second one.
#     4. PowerShell (Exchange Online): New-MailContact -Name "Atera Ticketing" -ExternalEmailAddress <ticketing address>
#        or, to correct an existing one: Set-MailContact -Identity "<contact name>" -ExternalEmailAddress <ticketing address>
package ticketguard.checks.ticketing_contact

import data.ticketguard.lib.identity
import data.ticketguard.lib.route
import data.ticketguard.lib.snap
import data.ticketguard.lib.util

_cmdlet := "Get-MailContact"

# Both inputs must be there before anything is compared: a missing contact list
# must never read as "no contact".
_ready if {
	snap.collected(_cmdlet)
	snap.ticketing_address
}

findings contains f if {
	not snap.collected(_cmdlet)
	f := {
		"status": "indeterminate",
		"message": snap.missing_message([_cmdlet]),
	}
}

findings contains f if {
	not snap.ticketing_address
	f := {
		"status": "indeterminate",
		"message": "atera.ticketing_address is not declared: declare atera.ticketing_address (Atera: Admin > Email settings) in the snapshot / config",
	}
}

findings contains f if {
	_ready
	some key in route.ticketing_contacts
	f := {
		"status": "pass",
		"message": sprintf("%s has ExternalEmailAddress %q, the Atera ticketing address %s", [
			identity.label(key),
			_external(key),
			snap.ticketing_address,
		]),
		"resource": _resource(key),
	}
}

findings contains f if {
	_ready
	count(route.ticketing_contacts) == 0
	f := {
		"status": "fail",
		"message": sprintf("no mail contact has ExternalEmailAddress %s (the Atera ticketing address); %s", [
			snap.ticketing_address,
			_near_miss_text,
		]),
		"resource": sprintf("contact:%s", [snap.ticketing_address]),
	}
}

_external(key) := sprintf("%v", [identity.recipients[key].object.ExternalEmailAddress])

_resource(key) := sprintf("contact:%s", [identity.recipients[key].primary]) if {
	identity.recipients[key].primary != ""
} else := sprintf("contact:%s", [snap.ticketing_address])

# A near miss is a contact pointing at the ticketing domain, or at anything that
# looks like Atera (a typo in the sub-domain, an old account's address): the
# technician almost certainly meant it to be the ticketing contact.
_near_misses contains sprintf("%s (ExternalEmailAddress %q)", [identity.label(key), r.object.ExternalEmailAddress]) if {
	some key, r in identity.recipients
	r.kind == "contact"
	is_string(r.object.ExternalEmailAddress)
	_near(util.norm_addr(r.object.ExternalEmailAddress))
}

_near(addr) if util.domain_of(addr) == util.domain_of(snap.ticketing_address)

_near(addr) if contains(util.domain_of(addr), "atera")

_contact_count := count([key | some key, r in identity.recipients; r.kind == "contact"])

_near_miss_text := sprintf("contacts on %s or another Atera domain: %s", [
	util.domain_of(snap.ticketing_address),
	concat("; ", sort(_near_misses)),
]) if {
	count(_near_misses) > 0
} else := sprintf("none of the %d mail contacts points at %s or another Atera domain", [
	_contact_count,
	util.domain_of(snap.ticketing_address),
])
