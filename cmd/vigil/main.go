// Command vigil is Vigil's single binary: the API and UI server, the background
// workers, migrations and the command-line tools. This package only wires: it reads the
// configuration, builds the parts from their packages and runs them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "vigil:", err)
		os.Exit(exitCodeOf(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Vigil: cloud security posture management",
		Long: "Vigil inventories AWS, Azure and GCP estates, evaluates misconfiguration and IAM\n" +
			"least-privilege checks, tracks configuration drift and serves findings over a REST\n" +
			"API and a web UI. Configuration comes from VIGIL_* environment variables\n" +
			"(see .env.example).",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCmd(),
		newWorkerCmd(),
		newMigrateCmd(),
		newVersionCmd(),
		newHealthcheckCmd(),
		newTenantCmd(),
		newAPIKeyCmd(),
		newDemoCmd(),
		newInventoryCmd(),
		newScanCmd(),
		newChecksCmd(),
	)
	return root
}

// lookupEnv is the configuration source; tests replace it.
var lookupEnv = os.LookupEnv

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "vigil", version)
			return nil
		},
	}
}
