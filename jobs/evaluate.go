package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/iamgraph"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// EvaluateScanArgs evaluates every applicable check over a finished scan's account.
type EvaluateScanArgs struct {
	TenantID  uuid.UUID `json:"tenant_id"`
	AccountID uuid.UUID `json:"account_id"`
	ScanID    uuid.UUID `json:"scan_id"`
}

// Kind is the job kind; never renamed.
func (EvaluateScanArgs) Kind() string { return "evaluate_scan" }

// InsertOpts: one evaluation per scan.
func (EvaluateScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// EvaluateScanWorker works EvaluateScanArgs.
type EvaluateScanWorker struct {
	river.WorkerDefaults[EvaluateScanArgs]
	*Pipeline
}

// Timeout bounds an evaluation.
func (w *EvaluateScanWorker) Timeout(*river.Job[EvaluateScanArgs]) time.Duration {
	return 30 * time.Minute
}

// Work evaluates and records findings, events and the posture snapshot, and finishes
// the scan, all in one transaction. The scan row is locked only at the end, to finish
// the scan: a cancel (or an account's deletion) waiting on that lock would otherwise
// wait for the whole evaluation. A scan cancelled meanwhile rolls the evaluation back.
func (w *EvaluateScanWorker) Work(ctx context.Context, job *river.Job[EvaluateScanArgs]) error {
	a := job.Args
	err := w.DB.TenantTx(ctx, a.TenantID, func(tx pgx.Tx) error {
		scan, err := store.ScanGet(ctx, tx, a.ScanID)
		if err != nil {
			return err
		}
		if scan.Status != store.ScanRunning {
			return errScanEnded
		}
		failed, err := store.FailedCoverage(ctx, tx, a.ScanID)
		if err != nil {
			return err
		}
		if err := w.evaluate(ctx, tx, a, failed); err != nil {
			return err
		}
		if _, err := store.PostureSnapshot(ctx, tx, a.AccountID, a.ScanID, w.now()); err != nil {
			return err
		}
		if scan, err = store.ScanGetForUpdate(ctx, tx, a.ScanID); err != nil {
			return err
		}
		if scan.Status != store.ScanRunning {
			return errScanEnded
		}
		status, errText := store.ScanCompleted, ""
		if scan.UnitsFailed > 0 {
			status = store.ScanPartial
			errText, err = unitErrors(ctx, tx, a.ScanID)
			if err != nil {
				return err
			}
			if scan.UnitsFailed == scan.UnitsTotal {
				status = store.ScanFailed
			}
		}
		if err := store.ScanFinish(ctx, tx, a.ScanID, status, errText); err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return river.JobCancel(err)
	case errors.Is(err, errScanEnded):
		return completeJob(ctx, w.DB, a.TenantID, job)
	}
	return err
}

// customChecks compiles the tenant's own checks, by resource type. They were validated
// when saved; one that no longer compiles (an engine upgrade) is skipped and logged,
// never allowed to stop the scan. Tenant expressions run with a runtime cost limit.
func (w *EvaluateScanWorker) customChecks(ctx context.Context, tx pgx.Tx) (map[string][]*checks.Check, error) {
	list, err := store.CustomCheckList(ctx, tx)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	co, err := checks.NewCompiler(checks.CompilerConfig{RuntimeCostLimit: checks.DefaultMaxCost})
	if err != nil {
		return nil, err
	}
	out := map[string][]*checks.Check{}
	for _, cc := range list {
		c, problems := store.CustomCheckParse(ctx, co, []byte(cc.YAML))
		if len(problems) > 0 {
			w.Logger.WarnContext(ctx, "custom check does not compile; skipped", "check_id", cc.CheckID, "problem", problems[0].Message)
			continue
		}
		out[c.Resource] = append(out[c.Resource], c)
	}
	return out, nil
}

func unitErrors(ctx context.Context, tx pgx.Tx, scanID uuid.UUID) (string, error) {
	units, err := store.ScanUnits(ctx, tx, scanID)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, u := range units {
		if u.Status == "failed" {
			parts = append(parts, u.Unit+": "+u.ErrorKind)
		}
	}
	return fmt.Sprintf("%d units failed (%s)", len(parts), strings.Join(parts, ", ")), nil
}

// evaluateBatch is how many resources are evaluated and their findings written at a
// time: memory stays bounded whatever the account's size.
const evaluateBatch = 1000

// wholeAccountTypes are read in full before the streamed evaluation: the account
// document (context of every check) and the IAM documents the analyses need together.
var wholeAccountTypes = []string{"aws.account", "aws.iam."}

// evaluate runs the registry over the account's current resources, streamed in
// batches, skipping those in the coverage of failed units (their findings stay as they
// were), then the whole-account IAM analyses, and records the findings as it goes.
func (w *EvaluateScanWorker) evaluate(ctx context.Context, tx pgx.Tx, a EvaluateScanArgs, failed map[store.TypeRegion]bool) error {
	now := w.now()
	whole, err := store.ResourcesWhere(ctx, tx, a.AccountID, nil, wholeAccountTypes)
	if err != nil {
		return err
	}
	var account *providers.Resource
	for i := range whole {
		if strings.HasSuffix(whole[i].Doc.Type, ".account") {
			account = &whole[i].Doc
		}
	}
	// When this scan could not read the account document, the stored one is the last
	// scan's: checks reading it must not decide on stale data, so every account
	// property counts as a gap (unknown, and the findings keep their state).
	if account != nil && (failed[store.TypeRegion{Type: account.Type, Region: account.Region}] ||
		failed[store.TypeRegion{Type: account.Type, Region: providers.RegionGlobal}]) {
		stale := *account
		stale.Gaps = nil
		for key := range stale.Properties {
			stale.Gaps = append(stale.Gaps, providers.Gap{Property: key, Operation: "account unit", Kind: providers.KindOther,
				Message: "the account document could not be collected in this scan"})
		}
		account = &stale
	}
	custom, err := w.customChecks(ctx, tx)
	if err != nil {
		return err
	}
	findings, err := store.FindingsBegin(ctx, tx, store.ApplyFindingsParams{AccountID: a.AccountID, ScanID: a.ScanID, At: now, Failed: failed})
	if err != nil {
		return err
	}

	var out []store.CheckResult
	var buf []checks.Result
	err = store.ResourceStream(ctx, tx, a.AccountID, evaluateBatch, func(batch []store.StoredResource) error {
		related, err := relatedOf(ctx, tx, a.AccountID, batch)
		if err != nil {
			return err
		}
		out = out[:0]
		for i := range batch {
			s := &batch[i]
			d := &s.Doc
			if failed[store.TypeRegion{Type: d.Type, Region: d.Region}] || failed[store.TypeRegion{Type: d.Type, Region: providers.RegionGlobal}] {
				continue
			}
			findings.Evaluated(s.ID)
			doc := checks.Document{Resource: *d, Account: account, Now: now}
			if len(d.Relations) > 0 {
				doc.Related = map[string][]providers.Resource{}
				for _, rel := range d.Relations {
					if t, ok := related[rel.TargetID]; ok {
						doc.Related[rel.Kind] = append(doc.Related[rel.Kind], *t)
					}
				}
			}
			buf = w.Checks.EvaluateAppend(ctx, doc, buf[:0])
			for _, r := range buf {
				c, _ := w.Checks.Check(r.CheckID)
				out = append(out, store.CheckResult{ResourceID: s.ID, NativeID: d.NativeID, ResourceType: d.Type, Region: d.Region,
					Tags: d.Tags, Provider: d.Provider, CheckID: r.CheckID, Status: string(r.Status), Severity: string(c.Severity),
					Message: r.Message, Reason: r.Reason, Evidence: r.Evidence})
			}
			for _, c := range custom[d.Type] {
				r := c.Evaluate(ctx, doc)
				if r.Status == checks.StatusSkip {
					continue
				}
				out = append(out, store.CheckResult{ResourceID: s.ID, NativeID: d.NativeID, ResourceType: d.Type, Region: d.Region,
					Tags: d.Tags, Provider: d.Provider, CheckID: store.CustomCheckPrefix + c.ID, Status: string(r.Status),
					Severity: string(c.Severity), Message: r.Message, Reason: r.Reason, Evidence: r.Evidence})
			}
		}
		return findings.Add(ctx, tx, out)
	})
	if err != nil {
		return err
	}

	tenant, err := store.TenantGet(ctx, tx)
	if err != nil {
		return err
	}
	iam, ran, err := w.analyzeIAM(ctx, tenant.UnusedAfterDays, whole, failed, now)
	if err != nil {
		return err
	}
	if !ran {
		// The analyses did not run: their findings keep their state.
		keep := map[string]bool{}
		for _, an := range iamgraph.Analyzers() {
			keep[an.ID] = true
		}
		findings.Keep(keep)
	}
	if err := findings.Add(ctx, tx, iam); err != nil {
		return err
	}
	_, err = findings.Finish(ctx, tx)
	return err
}

// relatedOf reads the documents the batch's relations point at, by native id.
func relatedOf(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, batch []store.StoredResource) (map[string]*providers.Resource, error) {
	targets := map[string]bool{}
	for i := range batch {
		for _, rel := range batch[i].Doc.Relations {
			targets[rel.TargetID] = true
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	natives := make([]string, 0, len(targets))
	for t := range targets {
		natives = append(natives, t)
	}
	docs, err := store.ResourcesWhere(ctx, tx, accountID, natives, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*providers.Resource, len(docs))
	for i := range docs {
		out[docs[i].Doc.NativeID] = &docs[i].Doc
	}
	return out, nil
}

// analyzeIAM runs the whole-account IAM analyses (effective permissions, escalation
// paths, trust, unused access). They need every IAM document of the account, so they
// run only when no IAM unit failed: otherwise their findings stay as they were.
func (w *EvaluateScanWorker) analyzeIAM(ctx context.Context, unusedDays int, stored []store.StoredResource,
	failed map[store.TypeRegion]bool, now time.Time) (_ []store.CheckResult, ran bool, _ error) {
	var docs []providers.Resource
	byNative := make(map[string]*store.StoredResource, len(stored))
	for i := range stored {
		t := stored[i].Doc.Type
		if strings.HasPrefix(t, "aws.iam.") || t == "aws.account" {
			docs = append(docs, stored[i].Doc)
			byNative[stored[i].Doc.NativeID] = &stored[i]
		}
	}
	if len(docs) == 0 {
		return nil, true, nil // nothing to analyse: no finding can stand
	}
	for tr := range failed {
		if strings.HasPrefix(tr.Type, "aws.iam.") {
			return nil, false, nil
		}
	}
	g, err := iamgraph.Build(docs, iamgraph.BuildConfig{})
	if err != nil {
		return nil, false, fmt.Errorf("build iam graph: %w", err)
	}
	found, err := iamgraph.Analyze(ctx, g, iamgraph.Config{UnusedDays: unusedDays, NowFunc: func() time.Time { return now }})
	if err != nil {
		return nil, false, fmt.Errorf("analyze iam: %w", err)
	}
	out := make([]store.CheckResult, 0, len(found))
	for _, f := range found {
		s, ok := byNative[f.ResourceNativeID]
		if !ok {
			continue
		}
		d := &s.Doc
		out = append(out, store.CheckResult{ResourceID: s.ID, NativeID: d.NativeID, ResourceType: d.Type, Region: d.Region,
			Tags: d.Tags, Provider: d.Provider, CheckID: f.CheckID, Status: f.Status, Severity: f.Severity,
			Message: f.Message, Evidence: f.Evidence})
	}
	return out, true, nil
}
