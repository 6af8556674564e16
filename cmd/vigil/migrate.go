package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/store"
)

func newMigrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back or list database migrations (Vigil's and River's)",
		Long: "Migrations run as the owner of the schema: VIGIL_MIGRATE_DATABASE_URL when set,\n" +
			"else VIGIL_DATABASE_URL. They create the vigil_app role the application runs as.",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Apply every pending migration",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				m, err := openMigrator(cmd)
				if err != nil {
					return err
				}
				defer m.Close()
				applied, err := m.Up(cmd.Context())
				for _, a := range applied {
					fmt.Fprintln(cmd.OutOrStdout(), "applied", a)
				}
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "schema is current")
				}
				return nil
			},
		},
		newMigrateDownCmd(),
		&cobra.Command{
			Use:   "status",
			Short: "List migrations and whether each is applied",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				m, err := openMigrator(cmd)
				if err != nil {
					return err
				}
				defer m.Close()
				st, err := m.Status(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "LINE\tVERSION\tNAME\tSTATE")
				pending := 0
				for _, s := range st {
					state := "applied"
					if !s.Applied {
						state = "pending"
						pending++
					}
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", s.Line, s.Version, s.Name, state)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d pending\n", pending)
				return nil
			},
		},
	)
	return cmd
}

func newMigrateDownCmd() *cobra.Command {
	var to int64
	var all, river bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Roll back Vigil's latest migration (or down to --to, or --all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := openMigrator(cmd)
			if err != nil {
				return err
			}
			defer m.Close()
			target := to
			if all {
				target = 0
			} else if !cmd.Flags().Changed("to") {
				st, err := m.Status(cmd.Context())
				if err != nil {
					return err
				}
				var cur, prev int64
				for _, s := range st {
					if s.Line == "vigil" && s.Applied {
						prev, cur = cur, s.Version
					}
				}
				if cur == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to roll back")
					return nil
				}
				target = prev
			}
			if river && target != 0 {
				return fmt.Errorf("--river only goes with --all (River's tables go last)")
			}
			done, err := m.Down(cmd.Context(), target, river)
			for _, d := range done {
				fmt.Fprintln(cmd.OutOrStdout(), "rolled back", d)
			}
			return err
		},
	}
	cmd.Flags().Int64Var(&to, "to", 0, "roll back to this version (exclusive of later ones)")
	cmd.Flags().BoolVar(&all, "all", false, "roll back every Vigil migration")
	cmd.Flags().BoolVar(&river, "river", false, "with --all, also drop River's job tables")
	return cmd
}

func openMigrator(cmd *cobra.Command) (*store.Migrator, error) {
	cfg, err := LoadConfig(lookupEnv, needDatabase)
	if err != nil {
		return nil, err
	}
	return store.NewMigrator(cmd.Context(), cfg.MigrateDatabaseURL, cfg.NewLogger())
}
