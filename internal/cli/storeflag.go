package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ticketguard/ticketguard/internal/result"
	"github.com/ticketguard/ticketguard/internal/store"
)

// defaultStorePath is the history store used when neither --store nor the
// configuration names one: the current directory, like a snapshot.
const defaultStorePath = "ticketguard.db"

// addStoreFlag declares --store, and --config when the command has none, on
// a command that reads the history.
func addStoreFlag(cmd *cobra.Command) {
	cmd.Flags().String("store", "", "the history store `FILE` (default: store.path of --config, else "+defaultStorePath+" in the current directory)")
	if cmd.Flags().Lookup("config") == nil {
		cmd.Flags().StringP("config", "c", "", "read store.path from this configuration `FILE`")
	}
}

// storePath resolves the history store of a reading command the way serve
// and run resolve it (serviceStorePath): --store, else store.path of the
// --config file when one is given, else the default in the current
// directory. A --config that does not load is an error, not a silent fall
// back to another database.
func storePath(cmd *cobra.Command) (string, error) {
	if f := cmd.Flags().Lookup("store"); f != nil && f.Value.String() != "" {
		return f.Value.String(), nil
	}
	if f := cmd.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
		cfg, err := loadConfig(f.Value.String())
		if err != nil {
			return "", err
		}
		return serviceStorePath(cmd, cfg), nil
	}
	return defaultStorePath, nil
}

// openStoreForReading opens an existing history store. store.Open would
// create a missing file, and an empty history would then read as "no such
// tenant", hiding the real mistake (a wrong directory, a missing --store):
// here a missing file is an error that says what to do.
func openStoreForReading(ctx context.Context, path string) (*store.Store, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &exitError{code: result.ExitUsage, msg: fmt.Sprintf(
			"no history yet: %s does not exist: run `ticketguard run --once` or `ticketguard serve` first, or name the store with --store FILE", path)}
	case err != nil:
		return nil, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("history store: %v", err)}
	case fi.IsDir():
		return nil, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("history store: %s is a directory; give the database file", path)}
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted(ctx)
		}
		return nil, &exitError{code: result.ExitUsage, msg: err.Error()}
	}
	return st, nil
}

// openTenantHistory opens the store of a reading command (history, show,
// baseline) and resolves its TENANT argument; the caller closes the store.
func openTenantHistory(cmd *cobra.Command, name string) (st *store.Store, path, tenant string, err error) {
	ctx := cmd.Context()
	if path, err = storePath(cmd); err != nil {
		return nil, "", "", err
	}
	if st, err = openStoreForReading(ctx, path); err != nil {
		return nil, "", "", err
	}
	if tenant, err = resolveTenant(ctx, st, path, name); err != nil {
		st.Close()
		return nil, "", "", err
	}
	return st, path, tenant, nil
}

// storeError ends a command on a store read that failed after the store
// opened (a corrupted row, an interrupted read).
func storeError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return interrupted(ctx)
	}
	return &exitError{code: result.ExitUsage, msg: err.Error()}
}

// resolveTenant maps the TENANT argument to a tenant with runs in the store:
// the exact name, else the one name that matches ignoring case (tenant names
// come from ticketguard.yaml, which matches them that way too). An unknown
// tenant exits 2 naming the tenants the store knows.
func resolveTenant(ctx context.Context, st *store.Store, path, name string) (string, error) {
	tenants, err := st.Tenants(ctx)
	if err != nil {
		return "", storeError(ctx, err)
	}
	var names, folded []string
	for _, t := range tenants {
		if t.Tenant == name {
			return name, nil
		}
		if strings.EqualFold(t.Tenant, name) {
			folded = append(folded, t.Tenant)
		}
		names = append(names, t.Tenant)
	}
	if len(folded) == 1 {
		return folded[0], nil
	}
	if len(names) == 0 {
		return "", &exitError{code: result.ExitUsage, msg: fmt.Sprintf(
			"no history yet: %s has no runs: run `ticketguard run --once` or `ticketguard serve` first", path)}
	}
	return "", &exitError{code: result.ExitUsage, msg: fmt.Sprintf("unknown tenant %q: %s has runs of %s",
		name, path, strings.Join(names, ", "))}
}

// tenantRun returns the run --run names, which must be the tenant's; id 0
// means the tenant's latest run.
func tenantRun(ctx context.Context, st *store.Store, path, tenant string, id int64) (store.Run, error) {
	if id == 0 {
		r, ok, err := st.LastRun(ctx, tenant)
		if err != nil {
			return store.Run{}, storeError(ctx, err)
		}
		if !ok { // resolveTenant found runs a moment ago: pruned in between
			return store.Run{}, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("%s has no runs of %s", path, tenant)}
		}
		return r, nil
	}
	r, err := st.Run(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Run{}, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("no run %d in %s%s", id, path, recentRuns(ctx, st, tenant))}
	case err != nil:
		return store.Run{}, storeError(ctx, err)
	case r.Tenant != tenant:
		return store.Run{}, &exitError{code: result.ExitUsage, msg: fmt.Sprintf("run %d is a run of %s, not of %s%s", id, r.Tenant, tenant, recentRuns(ctx, st, tenant))}
	}
	return r, nil
}

// recentRuns is a hint naming the tenant's latest run ids, for an error
// about a --run that does not fit.
func recentRuns(ctx context.Context, st *store.Store, tenant string) string {
	const n = 5
	runs, err := st.Runs(ctx, tenant, n+1)
	if err != nil || len(runs) == 0 {
		return ""
	}
	ids := make([]string, 0, n)
	for _, r := range runs[:min(n, len(runs))] {
		ids = append(ids, strconv.FormatInt(r.ID, 10))
	}
	more := ""
	if len(runs) > n {
		more = ", …"
	}
	return fmt.Sprintf(" (latest runs of %s: %s%s; see `ticketguard history %s`)", tenant, strings.Join(ids, ", "), more, tenant)
}

// runIDFlag declares --run on a command that picks one stored run.
func runIDFlag(cmd *cobra.Command, id *int64, def string) {
	cmd.Flags().Int64Var(id, "run", 0, "the run `ID` (see `ticketguard history`); default "+def)
}

// checkRunID rejects a --run that cannot name a run.
func checkRunID(cmd *cobra.Command, id int64) error {
	if cmd.Flags().Changed("run") && id <= 0 {
		return usageErrorf(cmd, "--run %d: run ids are positive numbers, as `ticketguard history` lists them", id)
	}
	return nil
}
