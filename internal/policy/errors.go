package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// ProblemKind says at which stage loading the policies went wrong.
type ProblemKind string

const (
	// KindCompile: a Rego file does not parse or compile (strict mode).
	KindCompile ProblemKind = "compile"
	// KindContract: the Rego compiles but a check breaks the check contract
	// (METADATA, package layout, the findings rule, duplicate ids).
	KindContract ProblemKind = "contract"
	// KindInput: a --policies path cannot be read.
	KindInput ProblemKind = "input"
)

// Problem is one thing wrong with the policies, located in a file.
type Problem struct {
	File    string `json:"file,omitempty"`
	Row     int    `json:"row,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.File != "" && p.Row > 0:
		return p.File + ":" + strconv.Itoa(p.Row) + ": " + p.Message
	case p.File != "":
		return p.File + ": " + p.Message
	default:
		return p.Message
	}
}

// LoadError reports why the policies could not be loaded. The CLI maps it to
// "bad input" (exit 2); Custom tells whether the user's own policies are to
// blame or the built-in ones (a ticketguard bug).
type LoadError struct {
	Kind     ProblemKind
	Custom   bool
	Problems []Problem
}

func (e *LoadError) Error() string {
	who := "built-in policies"
	if e.Custom {
		who = "custom policy"
	}
	var head string
	switch e.Kind {
	case KindCompile:
		head = who + " failed to compile"
	case KindContract:
		head = who + " breaks the check contract"
	default:
		head = who + " could not be read"
	}
	if len(e.Problems) == 1 {
		return head + ": " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d problems):", head, len(e.Problems))
	for _, p := range e.Problems {
		// Continuation lines of a problem (type error details) stay under it.
		b.WriteString("\n  ")
		b.WriteString(strings.ReplaceAll(p.String(), "\n", "\n  "))
	}
	return b.String()
}
