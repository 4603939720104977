package alert_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ticketguard/ticketguard/internal/alert"
	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
	"github.com/ticketguard/ticketguard/notifiers/slack"
	"github.com/ticketguard/ticketguard/notifiers/slack/fakeslack"
)

// How `ticketguard serve` wires a run to Slack: plan against what was
// announced, save the alert state and the message with the run in one
// transaction, then flush the outbox.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "alert-example")
	defer os.RemoveAll(dir)
	st, _ := store.Open(ctx, filepath.Join(dir, "ticketguard.db"))
	defer st.Close()
	slackSrv := fakeslack.New() // a local Slack
	defer slackSrv.Close()
	notifier, _ := slack.New(slack.Options{BotToken: "xoxb-example", DefaultChannel: "#m365-alerts", APIURL: slackSrv.APIURL()})
	deliverer := &alert.Deliverer{Store: st, Notifier: notifier}

	// One run of one tenant, evaluated.
	now := time.Now()
	tenant := result.Tenant{Name: "acme", CollectedAt: now, Results: []result.CheckResult{
		{Check: result.Check{ID: "ticketing-contact", Title: "Mail contact for the Atera ticketing address"}, Status: result.Fail,
			Message: "no mail contact for acme@ticketing.atera.com"},
	}}

	for range 2 { // the second, unchanged run sends nothing
		prev, _ := st.AlertStates(ctx, tenant.Name)
		dec := alert.Plan(alert.Input{Tenant: tenant, Prev: prev, Now: now, Repeat: 24 * time.Hour})
		fmt.Println("decision:", dec.Why())
		rec := store.RunRecord{
			Run:        store.Run{Tenant: tenant.Name, StartedAt: now, FinishedAt: now, Outcome: store.OutcomeOK},
			Results:    tenant.Results,
			AlertState: dec.State,
		}
		if dec.Send() {
			msg, err := alert.Outbox(dec, slack.Renderer{MaskAddresses: true}, "#m365-alerts", now)
			if err != nil {
				panic(err)
			}
			rec.Outbox = append(rec.Outbox, msg)
		}
		if _, err := st.SaveRun(ctx, rec); err != nil {
			panic(err)
		}
		if err := deliverer.Flush(ctx); err != nil {
			panic(err)
		}
	}
	for _, m := range slackSrv.Messages() {
		fmt.Println("slack:", m.Channel, m.Text)
	}
	// Output:
	// decision: first run, new failures
	// decision: nothing to send
	// slack: #m365-alerts ticketguard: acme: 1 new failure
}
