// Package suggest finds the "did you mean" candidate for a misspelt name in
// an error message (a cmdlet key, a check id, a config field).
package suggest

import (
	"strings"

	"github.com/agnivade/levenshtein"
)

// Closest returns the candidate nearest to s, ignoring case, when it is
// within an edit distance of about a third of s's length; "" otherwise, so a
// wild guess is never offered.
func Closest(s string, candidates []string) string {
	best, bestD := "", len(s)/3+1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := levenshtein.ComputeDistance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
