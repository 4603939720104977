package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/notifiers"
	"github.com/ticketguard/ticketguard/notifiers/slack"
)

// notifyTimeout bounds the test message: Slack answers in well under a
// second, and a hang is worth reporting rather than waiting on.
const notifyTimeout = 30 * time.Second

func newNotifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Check the Slack notifications of `ticketguard serve`",
		Long: `Commands about the Slack alerts that 'ticketguard serve' and 'ticketguard run'
send (the slack section of the configuration).`,
		Example: "  ticketguard notify test --config ticketguard.yaml --tenant acme",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newNotifyTestCmd())
	return cmd
}

func newNotifyTestCmd() *cobra.Command {
	var configPath, tenant string
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Send a test message to the configured Slack channel",
		Long: `Send one test message through the configuration's slack section, right away and
not through the outbox, to check the token or webhook, the channel and the
bot's membership of it. With --tenant the message goes to that tenant's
channel (its entry in slack.channels, else slack.default_channel) and names
the tenant. The message says that nothing is wrong, so nobody acts on it.

Exit codes: 0 sent; 1 Slack refused or could not be reached (the reason and
what to do are printed); 2 bad usage, or a configuration without a usable
slack section.`,
		Example: `  # The default channel
  ticketguard notify test --config ticketguard.yaml

  # The channel of one tenant
  ticketguard notify test --config ticketguard.yaml --tenant contoso.eu`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNotifyTest(cmd, configPath, tenant)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "ticketguard.yaml", "the configuration `FILE`, with a slack section")
	cmd.Flags().StringVarP(&tenant, "tenant", "t", "", "send to the channel of the tenant `NAME`")
	return cmd
}

func runNotifyTest(cmd *cobra.Command, configPath, tenant string) error {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	if cfg.Slack == nil {
		return &exitError{code: result.ExitUsage, msg: fmt.Sprintf(
			"%s has no slack section: add one with bot_token (or webhook_url) and default_channel", configPath)}
	}
	if tenant != "" {
		t, err := cfg.Tenant(tenant)
		if err != nil {
			return usageErrorf(cmd, "%v", err)
		}
		tenant = t.Name
	}
	n, renderer, err := slack.FromConfig(cfg.Slack, nil)
	if err != nil {
		return &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	msg, err := renderer.TestMessage(tenant, time.Now())
	if err != nil {
		return &exitError{code: result.ExitFailed, msg: err.Error()}
	}
	channel := cfg.Slack.Channel(tenant)
	msg.Channel = channel

	ctx, cancel := context.WithTimeout(cmd.Context(), notifyTimeout)
	defer cancel()
	receipt, err := n.Notify(ctx, msg)
	if err != nil {
		return &exitError{code: result.ExitFailed, msg: "the test message was not sent: " + err.Error() + "\n" + notifyHint(err)}
	}
	out := cmd.OutOrStdout()
	if n.Webhook() {
		_, err = fmt.Fprintln(out, "Sent a test message through the incoming webhook (to the channel it was created for).")
	} else {
		_, err = fmt.Fprintf(out, "Sent a test message to %s (channel %s, ts %s).\n", channel, receipt.Channel, receipt.TS)
	}
	return err
}

// notifyHint says what to do about a failed test message, indented under it.
func notifyHint(err error) string {
	msg := err.Error()
	var hint string
	switch retry, _ := notifiers.Retryable(err); {
	case retry:
		hint = "Slack is rate limiting, unavailable or unreachable from here: check the network and proxy, then try again."
	case strings.Contains(msg, "not_in_channel"):
		hint = "The bot is not a member of the channel: invite it there (/invite @your-app), or give it chat:write.public."
	case strings.Contains(msg, "channel_not_found"):
		hint = "No such channel for this bot: check slack.default_channel or slack.channels (a private channel needs the bot invited)."
	case strings.Contains(msg, "invalid_auth"), strings.Contains(msg, "not_authed"), strings.Contains(msg, "token_revoked"), strings.Contains(msg, "account_inactive"):
		hint = "The bot token is not valid: copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page into the secret."
	case strings.Contains(msg, "missing_scope"):
		hint = "The app lacks the chat:write scope: add it under OAuth & Permissions and reinstall the app."
	case strings.Contains(msg, "404"), strings.Contains(msg, "403"), strings.Contains(msg, "410"):
		hint = "The webhook was removed or disabled: create a new one (Slack app > Incoming Webhooks) and update the secret."
	default:
		return ""
	}
	return "  " + hint
}
