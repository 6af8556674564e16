package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/report"
)

func newScanCmd() *cobra.Command {
	var (
		flags     cloudFlags
		checkIDs  []string
		framework string
		format    string
		output    string
		failOn    string
	)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Inventory a cloud account and evaluate the built-in checks (no database)",
		Long: `Scan collects one cloud account like inventory, evaluates the built-in checks on the
documents in memory, and prints the results. Nothing is stored: use it in CI or for a
one-off audit.

` + credentialHelp + `

Formats: table (failures and unknowns grouped by severity, then a summary line), json
(every result: check_id, native_id, resource_type, region, status pass|fail|unknown,
message, reason, severity, title, evidence), sarif (SARIF 2.1.0 for code-scanning
uploads: failures and unknowns), ocsf (a JSON array of OCSF 1.1.0 Compliance Findings,
every result), csv (a header and one row per result).

--checks or --framework limit the checks run; without --types, only the resource types
those checks read are collected (plus the account document).

Collection gaps: a unit that fails (access denied, throttled past retries) is reported,
and resources of its types in its region (or of a global unit's types anywhere) are not
evaluated at all, so nothing about them is reported as passing. This is the rule the
server applies. A property that could not be read on one resource makes the checks that
read it unknown, never pass or fail.

Exit codes: 3 some failure at or above --fail-on (checked first); 2 some collection
units failed; 1 any other error; 0 otherwise. Without --fail-on, failures alone do not
change the exit code.`,
		Example: `  vigil scan --regions eu-west-1 --fail-on high
  vigil scan --framework cis-aws-5.0 --format sarif --output vigil.sarif
  vigil scan --checks aws.s3.bucket_no_public_read,aws.ec2.volume_encrypted --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := report.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			var minSev checks.Severity
			if failOn != "" {
				minSev = checks.Severity(strings.ToLower(failOn))
				if !minSev.Valid() {
					return fmt.Errorf("--fail-on %q: want critical, high, medium, low or info", failOn)
				}
			}
			reg, err := builtin.Registry()
			if err != nil {
				return err
			}
			selected, err := selectChecks(reg, trimAll(checkIDs), strings.TrimSpace(framework))
			if err != nil {
				return err
			}
			var needTypes []string
			if selected != nil {
				needTypes = []string{awsprov.TypeAccount}
				for _, c := range selected {
					if !slices.Contains(needTypes, c.Resource) {
						needTypes = append(needTypes, c.Resource)
					}
				}
			}
			ctx := cmd.Context()
			stderr := cmd.ErrOrStderr()
			p, err := flags.awsProvider(ctx, stderr, needTypes)
			if err != nil {
				return err
			}
			start := time.Now().UTC()
			var docs []providers.Resource
			// Documents are plain JSON values (the collectors guarantee it), so they are
			// evaluated exactly as the server evaluates them after storing.
			units, err := awsprov.CollectAll(ctx, p, func(_ context.Context, r providers.Resource) error {
				docs = append(docs, r)
				return nil
			})
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			collected := time.Since(start)
			run, err := evaluateScan(ctx, reg, selected, docs, units, start)
			if err != nil {
				return err
			}
			run.Tool = report.Tool{Name: "Vigil", Version: version, InformationURI: "https://github.com/vigilsec/vigil"}
			out, closeOut, err := openOutput(output, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			err = report.Write(out, f, run)
			if cerr := closeOut(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", f, err)
			}
			failedUnits := reportUnitFailures(stderr, units)
			fmt.Fprintf(stderr, "vigil: %d resources from %d units of account %s collected in %s (%d API calls), %d checks evaluated in %s: %s\n",
				len(docs), len(units), p.AccountID(), collected.Round(time.Millisecond), p.Stats().Total(), len(run.Checks),
				(time.Since(start) - collected).Round(time.Millisecond), report.SummaryLine(run.Summary()))
			if minSev != "" {
				if n := run.FailsAtOrAbove(minSev); n > 0 {
					return &exitError{code: exitFindings, msg: fmt.Sprintf("%d failing %s at or above %s", n, pluralWord(n, "result", "results"), minSev)}
				}
			}
			if failedUnits > 0 {
				return &exitError{code: exitPartial, msg: fmt.Sprintf("%d of %d collection units failed: results are incomplete", failedUnits, len(units))}
			}
			return nil
		},
	}
	flags.register(cmd.Flags())
	names := make([]string, 0, len(report.Formats()))
	for _, f := range report.Formats() {
		names = append(names, string(f))
	}
	cmd.Flags().StringSliceVar(&checkIDs, "checks", nil, "run only these check ids, comma-separated")
	cmd.Flags().StringVar(&framework, "framework", "", "run only the checks of this framework's controls (e.g. cis-aws-5.0; see vigil checks list --framework)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: "+strings.Join(names, ", "))
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the results to this file instead of stdout")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit with code 3 when a failure of this severity or worse exists: critical, high, medium, low or info")
	cmd.MarkFlagsMutuallyExclusive("checks", "framework")
	return cmd
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// selectChecks resolves --checks or --framework to the checks to run; nil means all.
func selectChecks(reg *checks.Registry, ids []string, framework string) ([]*checks.Check, error) {
	switch {
	case len(ids) > 0 && framework != "":
		return nil, fmt.Errorf("use --checks or --framework, not both")
	case len(ids) > 0:
		var out []*checks.Check
		var unknown []string
		for _, id := range ids {
			c, ok := reg.Check(id)
			if !ok {
				unknown = append(unknown, id)
				continue
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("--checks: unknown check ids %s (see vigil checks list)", strings.Join(unknown, ", "))
		}
		return out, nil
	case framework != "":
		fw, ok := reg.Framework(framework)
		if !ok {
			var known []string
			for _, f := range reg.Frameworks() {
				known = append(known, f.ID)
			}
			return nil, fmt.Errorf("--framework %q: unknown (known: %s)", framework, strings.Join(known, ", "))
		}
		var out []*checks.Check
		for _, ctl := range fw.Controls {
			for _, id := range ctl.Checks {
				if c, ok := reg.Check(id); ok && !slices.Contains(out, c) {
					out = append(out, c)
				}
			}
		}
		slices.SortFunc(out, func(a, b *checks.Check) int { return strings.Compare(a.ID, b.ID) })
		return out, nil
	}
	return nil, nil
}

// typeRegion is one (resource type, region) a collection unit is authoritative for.
type typeRegion struct{ typ, region string }

// evaluateScan evaluates reg's checks (only selected ones when selected is not nil)
// over the documents of one collection, the way the server's evaluate job does: the
// account document is the one whose type ends in ".account", related documents are
// found by native id, and resources whose (type, region) or (type, "global") unit
// failed are not evaluated (they are counted in Run.Skipped).
func evaluateScan(ctx context.Context, reg *checks.Registry, selected []*checks.Check, docs []providers.Resource, units []awsprov.UnitResult, now time.Time) (*report.Run, error) {
	run := &report.Run{Time: now}
	failed := map[typeRegion]bool{}
	planned := map[string]bool{}
	for _, u := range units {
		for _, t := range u.Unit.Types {
			planned[t] = true
			if u.Err != nil {
				failed[typeRegion{t, u.Unit.Region}] = true
			}
		}
		if u.Err != nil {
			run.Failed = append(run.Failed, report.UnitFailure{Unit: u.Unit.String(), Region: u.Unit.Region,
				Types: u.Unit.Types, Kind: string(u.Kind()), Error: u.Err.Error()})
		}
	}
	var want map[string]bool
	if selected != nil {
		want = make(map[string]bool, len(selected))
		for _, c := range selected {
			want[c.ID] = true
		}
	}
	// The checks of the run: the selected ones (or all) over the types collected.
	for _, c := range reg.Checks() {
		if (want == nil || want[c.ID]) && planned[c.Resource] {
			run.Checks = append(run.Checks, c)
		}
	}

	byNative := make(map[string]*providers.Resource, len(docs))
	var account *providers.Resource
	for i := range docs {
		byNative[docs[i].NativeID] = &docs[i]
		if strings.HasSuffix(docs[i].Type, ".account") {
			account = &docs[i]
		}
	}
	var buf []checks.Result
	for i := range docs {
		d := &docs[i]
		if failed[typeRegion{d.Type, d.Region}] || failed[typeRegion{d.Type, providers.RegionGlobal}] {
			run.Skipped++
			continue
		}
		doc := checks.Document{Resource: *d, Account: account, Now: now}
		if len(d.Relations) > 0 {
			doc.Related = map[string][]providers.Resource{}
			for _, rel := range d.Relations {
				if t, ok := byNative[rel.TargetID]; ok {
					doc.Related[rel.Kind] = append(doc.Related[rel.Kind], *t)
				}
			}
		}
		buf = reg.EvaluateAppend(ctx, doc, buf[:0])
		for _, r := range buf {
			if want != nil && !want[r.CheckID] {
				continue
			}
			c, _ := reg.Check(r.CheckID)
			run.Findings = append(run.Findings, report.Finding{
				CheckID: r.CheckID, Title: c.Title, Severity: c.Severity, Status: r.Status,
				Message: r.Message, Reason: r.Reason, Evidence: r.Evidence.Map(),
				Provider: d.Provider, AccountID: d.AccountID, NativeID: d.NativeID,
				ResourceType: d.Type, Region: d.Region, ResourceName: d.Name,
			})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return run, nil
}
