package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
)

// Exit codes of the database-free commands (inventory, scan, checks). Any other error
// exits with 1.
const (
	// exitPartial: the command finished but some collection units failed, so the output
	// does not cover every resource type and region asked for.
	exitPartial = 2
	// exitFindings: scan found failures at or above --fail-on.
	exitFindings = 3
)

// exitError ends a command with a specific process exit code. Its message is what
// main prints after "vigil: ".
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// ExitCode is the process exit code.
func (e *exitError) ExitCode() int { return e.code }

// exitCodeOf is the process exit code for an error returned by a command: the code of
// an *exitError, 1 for any other error, 0 for nil.
func exitCodeOf(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// cloudFlags are the collection flags shared by inventory and scan.
type cloudFlags struct {
	provider    string
	endpointURL string
	regions     []string
	types       []string
	verbose     bool
}

func (f *cloudFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.provider, "provider", providers.AWS, "cloud provider to collect (only aws for now)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "override every AWS service endpoint (moto_server, LocalStack, private endpoints)")
	fs.StringSliceVar(&f.regions, "regions", nil, "regions to collect, comma-separated (default: every region enabled for the account)")
	fs.StringSliceVar(&f.types, "types", nil, "resource types to collect, comma-separated, e.g. aws.s3.bucket,aws.ec2.volume (default: all)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log each collection unit to stderr")
}

// credentialHelp documents the credential chain in the help of inventory and scan.
const credentialHelp = `Credentials come from the standard AWS chain: AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE and the shared files, web identity,
then the instance or task role. AWS_REGION sets the home region of global services
(default us-east-1). VIGIL_AWS_MAX_ATTEMPTS bounds the attempts per AWS call, retries
included (default 8; lower it against emulators that answer some calls with errors).`

// awsProvider builds the AWS provider for the flags: credentials from the standard
// chain, the endpoint override, regions and types. When types is empty and needTypes
// is not, collection is limited to the needed types the provider knows.
func (f *cloudFlags) awsProvider(ctx context.Context, stderr io.Writer, needTypes []string) (*awsprov.Provider, error) {
	if f.provider != providers.AWS {
		return nil, fmt.Errorf("--provider %q: only %q is supported by the command line for now", f.provider, providers.AWS)
	}
	creds := awsprov.Credentials{EndpointURL: f.endpointURL}
	if v, ok := lookupEnv("VIGIL_AWS_MAX_ATTEMPTS"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("VIGIL_AWS_MAX_ATTEMPTS=%q: want a positive integer", v)
		}
		creds.MaxAttempts = n
	}
	creds.Region = cmp.Or(envValue("AWS_REGION"), envValue("AWS_DEFAULT_REGION"))
	cfg, err := awsprov.LoadConfig(ctx, creds)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	pc := awsprov.Config{Regions: trimAll(f.regions), Types: trimAll(f.types), EndpointURL: f.endpointURL, AWS: cfg, Logger: logger}
	p, err := awsprov.New(ctx, pc)
	if err != nil {
		return nil, err
	}
	if len(pc.Types) > 0 || len(needTypes) == 0 {
		return p, nil
	}
	// Collect only what the selected checks read: the known types among needTypes. The
	// first provider already discovered the account and regions, so the second one
	// makes no call.
	units, err := p.Plan(ctx)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, u := range units {
		for _, t := range u.Types {
			if slices.Contains(needTypes, t) && !slices.Contains(known, t) {
				known = append(known, t)
			}
		}
	}
	if len(known) == 0 {
		return nil, errors.New("none of the selected checks applies to a resource type the aws provider collects")
	}
	pc.Types, pc.Regions, pc.AccountID = known, p.Regions(), p.AccountID()
	return awsprov.New(ctx, pc)
}

// envValue reads one variable through lookupEnv.
func envValue(key string) string {
	v, _ := lookupEnv(key)
	return v
}

// trimAll drops blanks and surrounding spaces from a flag list.
func trimAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// reportUnitFailures prints each failed unit to w and returns how many failed.
func reportUnitFailures(w io.Writer, results []awsprov.UnitResult) int {
	n := 0
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		n++
		fmt.Fprintf(w, "vigil: unit %s failed (%s): %v\n", r.Unit, cmp.Or(string(r.Kind()), "error"), r.Err)
	}
	return n
}

// openOutput returns stdout, or the file at path (created or truncated); close flushes
// and closes it.
func openOutput(path string, stdout io.Writer) (w io.Writer, closeFn func() error, err error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open output: %w", err)
	}
	return f, f.Close, nil
}

func newInventoryCmd() *cobra.Command {
	var (
		flags  cloudFlags
		format string
		output string
	)
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Collect a cloud account's resources and print them (no database)",
		Long: `Inventory collects every resource of one cloud account through the cloud's APIs and
prints the documents: as JSON lines (one providers.Resource per line, streamed as they
arrive) or as a table (type, region, name, native id, number of collection gaps).
Nothing is stored.

` + credentialHelp + `

Collection runs in units (one collector in one region). A unit that fails (access
denied, throttled past retries, service disabled) is reported on stderr and the others
go on.

Exit codes: 0 every unit completed; 2 some units failed (the output misses their types
in their regions); 1 any other error.`,
		Example: `  vigil inventory --regions eu-west-1,us-east-1 > estate.jsonl
  vigil inventory --types aws.s3.bucket,aws.iam.user --format table
  vigil inventory --endpoint-url http://127.0.0.1:5000 --regions us-east-1 --output estate.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "jsonl" && format != "table" {
				return fmt.Errorf("--format %q: want jsonl or table", format)
			}
			ctx := cmd.Context()
			stderr := cmd.ErrOrStderr()
			p, err := flags.awsProvider(ctx, stderr, nil)
			if err != nil {
				return err
			}
			out, closeOut, err := openOutput(output, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			start := time.Now()
			bw := bufio.NewWriter(out)
			var rows []providers.Resource
			results, err := awsprov.CollectAll(ctx, p, func(_ context.Context, r providers.Resource) error {
				if format == "table" {
					r.Properties = nil // the table needs only the identity: keep memory flat
					rows = append(rows, r)
					return nil
				}
				b, err := json.Marshal(r)
				if err != nil {
					return fmt.Errorf("encode %s: %w", r.NativeID, err)
				}
				b = append(b, '\n')
				_, err = bw.Write(b)
				return err
			})
			if err == nil && format == "table" {
				err = writeInventoryTable(bw, rows)
			}
			if ferr := bw.Flush(); err == nil {
				err = ferr
			}
			if cerr := closeOut(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("inventory: %w", err)
			}
			failed := reportUnitFailures(stderr, results)
			total := 0
			for _, r := range results {
				total += r.Resources
			}
			fmt.Fprintf(stderr, "vigil: %d resources from %d units (%d failed) of account %s in %s, %d API calls\n",
				total, len(results), failed, p.AccountID(), time.Since(start).Round(time.Millisecond), p.Stats().Total())
			if failed > 0 {
				return &exitError{code: exitPartial, msg: fmt.Sprintf("%d of %d collection units failed", failed, len(results))}
			}
			return nil
		},
	}
	flags.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format: jsonl or table")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// writeInventoryTable prints the resources sorted by type, region and name.
func writeInventoryTable(w io.Writer, rows []providers.Resource) error {
	slices.SortFunc(rows, func(a, b providers.Resource) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Region, b.Region),
			strings.Compare(a.Name, b.Name), strings.Compare(a.NativeID, b.NativeID))
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tREGION\tNAME\tNATIVE ID\tGAPS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Type, r.Region, r.Name, r.NativeID, len(r.Gaps))
	}
	return tw.Flush()
}
