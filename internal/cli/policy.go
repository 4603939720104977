package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/policy"
	"github.com/ticketguard/ticketguard/internal/result"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "List, explain and test the checks",
		Example: `  ticketguard policy list
  ticketguard policy explain send-as
  ticketguard policy test ./my-policies`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf(cmd, "unknown policy command %q: want list, explain or test", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPolicyListCmd(), newPolicyExplainCmd(), newPolicyTestCmd())
	return cmd
}

// loadEngine loads the built-in and custom checks, turning a load failure
// into bad input (exit 2) that names file and line.
func loadEngine(cmd *cobra.Command, dirs []string) (*policy.Engine, error) {
	e, err := policy.Load(cmd.Context(), policy.Options{CustomDirs: dirs})
	if err != nil {
		if cmd.Context().Err() != nil {
			return nil, interrupted(cmd.Context())
		}
		return nil, inputError([]string{policyProblem(err)})
	}
	return e, nil
}

func newPolicyListCmd() *cobra.Command {
	var format string
	var dirs []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the catalogue of checks: id, severity, title",
		Example: `  ticketguard policy list
  ticketguard policy list --policies ./my-policies --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErrorf(cmd, "--format %q: want text or json", format)
			}
			e, err := loadEngine(cmd, dirs)
			if err != nil {
				return err
			}
			var b bytes.Buffer
			checks := e.Catalogue()
			if format == "json" {
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if checks == nil {
					checks = []result.Check{}
				}
				if err := enc.Encode(checks); err != nil {
					return fmt.Errorf("encode catalogue: %w", err)
				}
			} else {
				tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
				for _, c := range checks {
					title := c.Title
					if !c.BuiltIn {
						title += " (custom)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Severity, title)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			_, err = cmd.OutOrStdout().Write(b.Bytes())
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	cmd.Flags().StringArrayVar(&dirs, "policies", nil, "also list the custom Rego checks in `DIR` (repeatable)")
	return cmd
}

func newPolicyExplainCmd() *cobra.Command {
	var dirs []string
	cmd := &cobra.Command{
		Use:   "explain ID",
		Short: "Show what a check requires, why it matters and how to fix it",
		Example: `  ticketguard policy explain external-forwarding
  ticketguard policy explain --policies ./my-policies acme-naming`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf(cmd, "explain takes exactly one check id (see 'ticketguard policy list')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := loadEngine(cmd, dirs)
			if err != nil {
				return err
			}
			c, ok := e.Lookup(args[0])
			if !ok {
				var ids []string
				for _, c := range e.Catalogue() {
					ids = append(ids, c.ID)
				}
				return &exitError{
					code: result.ExitUsage,
					msg:  fmt.Sprintf("unknown check id %q; known ids: %s", args[0], strings.Join(ids, ", ")),
					hint: helpHint(cmd),
				}
			}
			_, err = cmd.OutOrStdout().Write([]byte(explain(c)))
			return err
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "policies", nil, "also look in the custom Rego checks in `DIR` (repeatable)")
	return cmd
}

// explain renders one catalogue entry for a person.
func explain(c result.Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", c.ID, c.Title)
	fmt.Fprintf(&b, "Severity: %s\n", c.Severity)
	if c.Source != "" {
		fmt.Fprintf(&b, "Requirement: %s\n", c.Source)
	}
	origin := "built-in"
	if !c.BuiltIn {
		origin = "custom"
	}
	if c.File != "" {
		origin += ", " + c.File
	}
	fmt.Fprintf(&b, "Defined in: %s (package %s)\n", origin, c.Package)
	section := func(title, text string) {
		text = strings.TrimSpace(text)
		if text == "" {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, l := range strings.Split(text, "\n") {
			if strings.TrimSpace(l) == "" {
				b.WriteString("\n")
				continue
			}
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	section("Why it matters", c.Description)
	section("Remediation", c.Remediation)
	return b.String()
}

func newPolicyTestCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run the Rego unit tests of the built-in checks and of custom checks in DIR",
		Long: `Run every test_ rule of the built-in checks, and of the custom checks (and
their *_test.rego files) in each DIR. Exits 1 when a test fails, 2 when a
policy does not compile.`,
		Example: `  ticketguard policy test
  ticketguard policy test -v ./my-policies`,
		RunE: func(cmd *cobra.Command, dirs []string) error {
			var out bytes.Buffer
			sum, err := policy.RunTests(cmd.Context(), policy.Options{CustomDirs: dirs}, verbose, &out)
			if err != nil {
				if cmd.Context().Err() != nil {
					return interrupted(cmd.Context())
				}
				return inputError([]string{policyProblem(err)})
			}
			if _, err := cmd.OutOrStdout().Write(out.Bytes()); err != nil {
				return err
			}
			if !sum.OK() {
				msg := fmt.Sprintf("Rego tests: %d passed, %d failed, %d errored", sum.Passed, sum.Failed, sum.Errored)
				if sum.Passed+sum.Failed+sum.Errored == 0 {
					msg = "no Rego tests were found"
				}
				return &exitError{code: result.ExitFailed, msg: msg}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every test, not only the failures")
	return cmd
}
