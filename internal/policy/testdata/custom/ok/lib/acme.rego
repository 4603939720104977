# Library code in a custom directory lives outside ticketguard.
package acme.lib

items(obj, key) := object.get(obj, key, [])
