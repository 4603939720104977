// Package cli is the ticketguard command line: cobra commands that turn flags
// into calls to the snapshot, policy, waiver and report packages, and map the
// outcome to the documented exit codes. Nothing here knows Rego or the
// snapshot format; it only wires.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/result"
)

// version is set at build time:
//
//	go build -ldflags "-X github.com/ticketguard/ticketguard/internal/cli.version=v1.2.3" ./cmd/ticketguard
//
// Without it the module version from the build info is used (set by
// `go install module@version`), else "dev".
var version = ""

// Version reports the ticketguard version.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// exitError ends a command with an exit code. Its message, if any, has
// already been shaped for stderr; hint is the one-line pointer to help.
type exitError struct {
	code int
	msg  string
	hint string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf is a mistake in the command line: exit 2 with a hint.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &exitError{code: result.ExitUsage, msg: fmt.Sprintf(format, args...), hint: helpHint(cmd)}
}

// inputError is bad input (a snapshot, a patch, waivers, custom policies):
// exit 2, every problem listed, no report.
func inputError(problems []string) error {
	return &exitError{code: result.ExitUsage, msg: strings.Join(problems, "\n")}
}

// exitCode ends a command that completed with a non-zero code and nothing
// more to say (the report says it).
func exitCode(code int) error {
	if code == result.ExitOK {
		return nil
	}
	return &exitError{code: code}
}

func helpHint(cmd *cobra.Command) string {
	if cmd == nil {
		return "Run 'ticketguard --help' for usage."
	}
	return fmt.Sprintf("Run '%s --help' for usage.", cmd.CommandPath())
}

// Main runs ticketguard with args (without the program name) and returns the
// process exit code. It never calls os.Exit, so tests can call it directly.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return result.ExitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// cobra's own errors: unknown command, wrong number of arguments,
		// a flag it could not parse.
		ee = &exitError{code: result.ExitUsage, msg: err.Error(), hint: helpHint(cmd)}
	}
	if ee.msg != "" {
		// Each problem starts a line with the program name; its indented
		// continuation lines stay as they are.
		for _, line := range strings.Split(strings.TrimRight(ee.msg, "\n"), "\n") {
			if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
				fmt.Fprintln(stderr, line)
			} else {
				fmt.Fprintf(stderr, "ticketguard: %s\n", line)
			}
		}
	}
	if ee.hint != "" {
		fmt.Fprintln(stderr, ee.hint)
	}
	return ee.code
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "ticketguard",
		Short: "Audit the Exchange Online → Atera e-mail ticketing setup of Microsoft 365 tenants",
		Long: `ticketguard checks, from a snapshot of a tenant's Exchange Online settings, every
requirement of the Exchange Online → Atera e-mail ticketing setup: the mail
contact, the route from the support address, external forwarding, Send As,
the "via" tag, custom SMTP and more. Each check is a Rego policy; the report
says for every check whether it holds, why not, and how to fix it.

Exit codes: 0 all good; 1 a check failed at or above --fail-on; 2 bad usage or
bad input (no report is produced); 3 no failure but something indeterminate.`,
		Example: `  # Audit every snapshot in a directory
  ticketguard check testdata/tenants/

  # What breaks if the outbound spam policy is changed? (CI, pre-change)
  ticketguard check --patch change.json --format sarif --output ticketguard.sarif acme.json

  # The checks, and what one of them needs
  ticketguard policy list
  ticketguard policy explain external-forwarding`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf(cmd, "%v", err)
	})
	root.AddCommand(newCheckCmd(), newPolicyCmd(), newDiffCmd(), newHistoryCmd(), newShowCmd(), newBaselineCmd(), newCollectCmd(), newAuditCmd(), newDemoCmd(), newSimulateCmd(), newNotifyCmd(), newRunCmd(), newServeCmd(), newVersionCmd())
	root.SetHelpCommand(&cobra.Command{
		Use:     "help [COMMAND]",
		Short:   "Help about any command",
		Example: "  ticketguard help check\n  ticketguard help policy explain",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, _, err := root.Find(args)
			if err != nil || target == nil {
				return usageErrorf(root, "unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	})
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the ticketguard version",
		Example: "  ticketguard version",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "ticketguard %s (%s %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

// noArgs is cobra.NoArgs with the usage hint.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf(cmd, "%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
