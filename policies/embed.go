// Package policies holds ticketguard's built-in Rego checks, the shared Rego
// library they use and the facts (Atera's IP ranges, Microsoft's dates) they
// read as data. Everything ships inside the binary.
package policies

import "embed"

// FS holds lib/, checks/ and data/ exactly as they are laid out in the repository.
//
//go:embed lib checks data
var FS embed.FS
