# Fixture library for the engine tests: stands in for policies/lib.
package ticketguard.lib.sample

word := data.ticketguard.facts.sample.word
