package cli

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/drift"
	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/snapshot"
)

// Exit codes of diff, as diff(1) has them.
const (
	diffSame    = 0
	diffDrift   = 1
	diffTrouble = result.ExitUsage
)

func newDiffCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Show the drift between two snapshots of a tenant: what the checks read that changed",
		Long: `Compare two snapshots of one tenant and list the audited objects that were added,
removed or changed, property by property, before → after. Offline: nothing is
collected, only the two files are read.

Only what the checks read counts. Volatile fields (WhenChanged, timestamps), the
order of multi-valued properties (EmailAddresses, IPAllowList), OData annotations
and an identity written in another form (a name, a GUID, a DN or an address of
the same recipient) are never drift: objects are matched by resolved identity,
not by how they were written. A cmdlet that was collected in one snapshot and
not in the other is reported once, as "source ... collected true → false", and
its objects are not reported as removed.

Exit codes, as diff(1): 0 no drift; 1 drift found; 2 bad usage or bad input
(a snapshot that cannot be read; every problem is printed to stderr, nothing
to stdout).`,
		Example: `  # What changed in the tenant since yesterday's snapshot?
  ticketguard diff acme-2026-11-26.json acme-2026-11-27.json

  # In CI: fail the job when the tenant drifted from the reviewed snapshot
  ticketguard diff --format json approved/acme.json acme.json > drift.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf(cmd, "diff needs two snapshots, OLD and NEW; got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd, format, args[0], args[1])
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	return cmd
}

func runDiff(cmd *cobra.Command, format, oldPath, newPath string) error {
	ctx := cmd.Context()
	if format != "text" && format != "json" {
		return usageErrorf(cmd, "--format %q: want text or json", format)
	}

	// Every input first, every problem reported at once, as check does.
	var problems []string
	engine, err := policy.Load(ctx, policy.Options{})
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
		problems = append(problems, policyProblem(err))
	}
	docs := make([]*snapshot.Document, 2)
	for i, path := range []string{oldPath, newPath} {
		if docs[i], err = snapshot.Load(path); err != nil {
			problems = append(problems, fileProblem(path, err))
		}
	}
	if len(problems) > 0 {
		return inputError(problems)
	}

	views := make([]map[string]any, 2)
	for i, d := range docs {
		if views[i], err = engine.View(ctx, d.Data); err != nil {
			if ctx.Err() != nil {
				return interrupted(ctx)
			}
			return &exitError{code: diffTrouble, msg: fmt.Sprintf("%s: drift view: %v", d.Path, err)}
		}
	}
	changes := drift.Compare(views[0], views[1])

	if o, n := docs[0], docs[1]; o.TenantID != "" && n.TenantID != "" && o.TenantID != n.TenantID {
		// Legitimate (comparing with a reference tenant) but almost always a
		// mistake: recipients are matched by directory id, so nearly
		// everything differs.
		fmt.Fprintf(cmd.ErrOrStderr(), "ticketguard: warning: %s is tenant %s and %s is tenant %s; recipients are matched by directory id, so most of them will show as added and removed\n",
			o.Path, o.TenantID, n.Path, n.TenantID)
	}

	var buf bytes.Buffer
	if format == "json" {
		err = drift.WriteJSON(&buf, changes)
	} else {
		err = writeDiffText(&buf, docs[0], docs[1], views[1], changes)
	}
	if err != nil {
		return &exitError{code: diffTrouble, msg: fmt.Sprintf("render drift: %v", err)}
	}
	if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
		return &exitError{code: diffTrouble, msg: fmt.Sprintf("write drift: %v", err)}
	}
	if len(changes) > 0 {
		return exitCode(diffDrift)
	}
	return exitCode(diffSame)
}

// writeDiffText: a headline naming both files, then the changes grouped by
// object.
func writeDiffText(w io.Writer, o, n *snapshot.Document, newView map[string]any, changes []drift.Change) error {
	head := fmt.Sprintf("%s → %s", o.Path, n.Path)
	if n.Name != "" {
		head = fmt.Sprintf("%s (%s → %s)", n.Name, o.Path, n.Path)
	}
	if len(changes) == 0 {
		_, err := fmt.Fprintf(w, "%s: no drift in the %d objects the checks read\n", head, drift.Objects(newView))
		return err
	}
	if _, err := fmt.Fprintf(w, "%s: %s\n\n", head, drift.Summary(changes)); err != nil {
		return err
	}
	return drift.WriteText(w, changes)
}
