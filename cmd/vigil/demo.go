package main

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/store"
)

// The demo tenant's login. It only exists in databases `vigil demo seed` ran on, which
// `make demo` creates for local evaluation.
const (
	demoSlug     = "demo"
	demoEmail    = "demo@vigil.local"
	demoPassword = "vigil-demo-password"
)

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "demo", Short: "Demo data for local evaluation"}
	cmd.AddCommand(&cobra.Command{
		Use:   "seed",
		Short: "Create (or refresh) the demo tenant and print how to sign in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			hash, err := auth.HashPassword(demoPassword)
			if err != nil {
				return err
			}
			tid, err := db.TenantIDBySlug(ctx, demoSlug)
			switch {
			case errors.Is(err, store.ErrNotFound):
				tid, _, err = db.TenantCreate(ctx, store.TenantCreateParams{Name: "Demo Corp", Slug: demoSlug,
					OwnerEmail: demoEmail, OwnerName: "Demo Owner", OwnerPasswordHash: hash, ExistingOwnerAllowed: true})
				if err != nil {
					return fmt.Errorf("create demo tenant: %w", err)
				}
			case err != nil:
				return err
			default:
				// Reset the demo login so the printed password always works.
				err = db.TenantTx(ctx, tid, func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL
						WHERE lower(email) = lower($1)`, demoEmail, hash)
					return err
				})
				if err != nil {
					return fmt.Errorf("reset demo login: %w", err)
				}
			}
			out := cmd.OutOrStdout()
			reg, err := builtin.Registry()
			if err != nil {
				return err
			}
			cfg, err := LoadConfig(lookupEnv, needDatabase)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, "scanning the demo estate (recorded AWS traffic, two days)...")
			acct, err := demo.SeedEstate(ctx, demo.SeedConfig{DB: db, TenantID: tid, Checks: reg, Logger: cfg.NewLogger()})
			if err != nil {
				return fmt.Errorf("seed demo estate: %w", err)
			}
			fmt.Fprintln(out, "demo tenant ready:", tid, "account:", acct)
			fmt.Fprintf(out, "sign in with  %s  /  %s\n", demoEmail, demoPassword)
			return nil
		},
	})
	return cmd
}
