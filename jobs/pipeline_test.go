package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/providers/aws/awstest"
	"github.com/vigilsec/vigil/seal"
	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

// bundle is one pipeline under test: a database, a moto estate, a River client.
type bundle struct {
	t       *testing.T
	db      *storetest.DB
	moto    *awstest.Server
	client  *jobs.Client
	tenant  uuid.UUID
	account uuid.UUID
	done    <-chan *river.Event
	// failUnit makes the provider fail every collection of this collector with this kind.
	failUnit atomic.Pointer[unitFault]
	// holdUnit makes the provider wait, once it has collected this collector's unit,
	// until the test releases it.
	holdUnit atomic.Pointer[unitHold]
}

type unitHold struct {
	collector string
	collected chan struct{} // closed when the unit's documents are collected
	release   chan struct{} // closed by the test
}

type unitFault struct {
	collector string
	kind      providers.ErrorKind
	// once: fail the first attempt only, after emitting half the documents.
	once  bool
	fired atomic.Bool
}

// faultyProvider wraps the real provider to inject cloud failures into one unit.
type faultyProvider struct {
	providers.Provider
	b *bundle
}

func (f faultyProvider) Collect(ctx context.Context, u providers.Unit, emit providers.EmitFunc) error {
	if h := f.b.holdUnit.Load(); h != nil && h.collector == u.Collector {
		err := f.Provider.Collect(ctx, u, emit)
		close(h.collected)
		<-h.release
		return err
	}
	fault := f.b.failUnit.Load()
	if fault == nil || fault.collector != u.Collector || (fault.once && fault.fired.Load()) {
		return f.Provider.Collect(ctx, u, emit)
	}
	fault.fired.Store(true)
	if fault.once {
		// Emit some documents, then die: a crash mid-unit.
		n := 0
		_ = f.Provider.Collect(ctx, u, func(ctx context.Context, r providers.Resource) error {
			n++
			if n > 1 {
				return errors.New("stop")
			}
			return emit(ctx, r)
		})
		return &providers.CloudError{Kind: providers.KindOther, Operation: "test:crash", Region: u.Region, Err: errors.New("worker died")}
	}
	return &providers.CloudError{Kind: fault.kind, Operation: "test:" + u.Collector, Region: u.Region, Err: errors.New("injected " + string(fault.kind))}
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{t: t, db: storetest.New(t), moto: awstest.NewServer(t)}
	reg, err := builtin.Registry()
	require.NoError(t, err)
	key := make([]byte, 32)
	sealer, err := seal.New(key)
	require.NoError(t, err)
	// The real AWS provider, with fewer SDK attempts: moto answers a few account-level
	// enrichment calls with errors that would otherwise be retried for minutes.
	real := func(ctx context.Context, a store.Account, secret []byte) (providers.Provider, error) {
		creds, cfg, err := jobs.AWSCredentials(a, secret)
		if err != nil {
			return nil, err
		}
		creds.MaxAttempts = 2
		awsCfg, err := awsprov.LoadConfig(ctx, creds)
		if err != nil {
			return nil, err
		}
		return awsprov.New(ctx, awsprov.Config{AccountID: a.NativeID, Regions: a.Regions, Types: cfg.Types, EndpointURL: cfg.EndpointURL, AWS: awsCfg})
	}
	pipe := &jobs.Pipeline{DB: b.db.App, Sealer: sealer, Checks: reg, Logger: testLogger(),
		NewProvider: func(ctx context.Context, a store.Account, secret []byte) (providers.Provider, error) {
			p, err := real(ctx, a, secret)
			if err != nil {
				return nil, err
			}
			return faultyProvider{Provider: p, b: b}, nil
		}}
	b.client, err = jobs.NewClient(jobs.Config{DB: b.db.App, Logger: testLogger(), Concurrency: 4,
		Pipeline: pipe, FetchPollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	events, cancel := b.client.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	t.Cleanup(cancel)
	b.done = events
	require.NoError(t, b.client.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.client.Stop(ctx)
	})

	b.tenant = b.db.NewTenant(t, "Pipeline")
	b.account = uuid.New()
	secret, _ := json.Marshal(jobs.StaticSecret{AccessKeyID: "testing", SecretAccessKey: "testing"})
	sealed, err := sealer.Seal(secret, store.OwnerOfAccountSecret(b.tenant, b.account))
	require.NoError(t, err)
	require.NoError(t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		_, err := store.AccountCreate(ctx, tx, store.Account{ID: b.account, Provider: "aws", NativeID: awstest.AccountID,
			Name: "moto", CredentialKind: jobs.CredStatic, Config: map[string]any{"endpoint_url": b.moto.URL, "types": testTypes},
			Secret: sealed, Regions: []string{"us-east-1"}, Schedule: "0 3 * * *", Timezone: "UTC", Enabled: true})
		return err
	}))
	return b
}

// scan queues a scan and waits for its evaluation (or failure) to finish.
func (b *bundle) scan() store.Scan {
	b.t.Helper()
	ctx := context.Background()
	var scan store.Scan
	require.NoError(b.t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		var err error
		scan, err = jobs.EnqueueScan(ctx, b.client.River, tx, b.tenant, b.account, "manual", "test")
		return err
	}))
	deadline := time.After(scanTimeout)
	for {
		select {
		case ev := <-b.done:
			if ev.Job.Kind == "evaluate_scan" || (ev.Job.Kind == "scan_account" && ev.Kind != river.EventKindJobCompleted) {
				var s store.Scan
				require.NoError(b.t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
					var err error
					s, err = store.ScanGet(ctx, tx, scan.ID)
					return err
				}))
				if s.Status != store.ScanRunning && s.Status != store.ScanQueued {
					if os.Getenv("VIGIL_TEST_LOG") != "" {
						for _, u := range b.query("SELECT unit, status, attempts, finished_at - started_at AS took, error FROM scan_units WHERE scan_id = $1", s.ID) {
							b.t.Logf("unit %v", u)
						}
					}
					return s
				}
			}
		case <-deadline:
			b.t.Fatalf("scan %s did not finish in time", scan.ID)
		}
	}
}

func (b *bundle) query(q string, args ...any) []map[string]any {
	b.t.Helper()
	var out []map[string]any
	require.NoError(b.t, b.db.App.TenantTx(context.Background(), b.tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), q, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToMap)
		return err
	}))
	return out
}

func (b *bundle) one(q string, args ...any) any {
	b.t.Helper()
	rows := b.query(q, args...)
	require.Len(b.t, rows, 1, q)
	for _, v := range rows[0] {
		return v
	}
	return nil
}

func TestTwoScansDriftAndFindings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cfg := b.moto.Config(t, "us-east-1")
	s3c := s3.NewFromConfig(cfg, awstest.S3Options)
	ec2c := ec2.NewFromConfig(cfg)
	iamc := iam.NewFromConfig(cfg)

	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("drift-bucket")})
	require.NoError(t, err)
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	require.NoError(t, err)
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro})
	require.NoError(t, err)
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	require.NoError(t, err)

	s1 := b.scan()
	require.Equal(t, store.ScanCompleted, s1.Status, s1.Error)
	require.Zero(t, s1.UnitsFailed)
	require.Positive(t, s1.Resources)
	require.Equal(t, s1.Resources, s1.Created, "first scan: everything is new")
	require.EqualValues(t, 0, b.one("SELECT count(*) FROM resource_versions WHERE change <> 'created'"))
	sshCheck := "aws.ec2.security_group_ssh_restricted"
	sgARN := b.one("SELECT native_id FROM resources WHERE type = 'aws.ec2.security_group' AND name = 'web'").(string)
	require.Equal(t, "pass", b.one("SELECT f.status FROM findings f JOIN resources r ON r.id = f.resource_id WHERE r.native_id = $1 AND f.check_id = $2", sgARN, sshCheck))

	// Changes: the bucket made public, SSH opened to the world, the instance
	// terminated, a new user.
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("drift-bucket"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::drift-bucket/*"}]}`)})
	require.NoError(t, err)
	_, err = ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	require.NoError(t, err)
	_, err = ec2c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*run.Instances[0].InstanceId}})
	require.NoError(t, err)
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	require.NoError(t, err)

	s2 := b.scan()
	require.Equal(t, store.ScanCompleted, s2.Status, s2.Error)
	require.Equal(t, 1, s2.Created, "only bob is new")

	// Drift: versions and patches name what changed.
	bucketPatch := b.one(`SELECT v.patch::text FROM resource_versions v JOIN resources r ON r.id = v.resource_id
		WHERE r.type = 'aws.s3.bucket' AND r.name = 'drift-bucket' AND v.version = 2`).(string)
	require.Contains(t, bucketPatch, `"/properties/Policy"`)
	sgPatch := b.one(`SELECT v.patch::text FROM resource_versions v JOIN resources r ON r.id = v.resource_id
		WHERE r.native_id = $1 AND v.version = 2`, sgARN).(string)
	require.Contains(t, sgPatch, "/properties/IpPermissions")
	require.Contains(t, sgPatch, "0.0.0.0/0")
	instChange := b.one(`SELECT v.change || ' ' || v.patch::text FROM resource_versions v JOIN resources r ON r.id = v.resource_id
		WHERE r.type = 'aws.ec2.instance' AND v.version = 2`).(string)
	require.True(t, strings.HasPrefix(instChange, "modified"), instChange)
	require.Contains(t, instChange, "terminated")
	require.Equal(t, "created", b.one(`SELECT v.change FROM resource_versions v JOIN resources r ON r.id = v.resource_id
		WHERE r.type = 'aws.iam.user' AND r.name = 'bob'`))
	// Unchanged resources got no new version.
	require.EqualValues(t, 1, b.one(`SELECT max(v.version) FROM resource_versions v JOIN resources r ON r.id = v.resource_id
		WHERE r.type = 'aws.iam.user' AND r.name = 'alice'`))
	require.Equal(t, s2.Modified, int(b.one("SELECT count(*) FROM resource_versions WHERE change = 'modified' AND scan_id = $1", s2.ID).(int64)))

	// Findings: SSH open to the world opened; the public bucket fails.
	row := b.query(`SELECT f.state, f.status, f.severity FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.native_id = $1 AND f.check_id = $2`, sgARN, sshCheck)[0]
	require.Equal(t, "fail", row["status"])
	require.Equal(t, "open", row["state"])
	// The evidence (checks.Evidence, encoded by the store) is a JSON object of the
	// properties the check read.
	require.Equal(t, "array", b.one(`SELECT jsonb_typeof(f.evidence->'resource.properties.IpPermissions') FROM findings f
		JOIN resources r ON r.id = f.resource_id WHERE r.native_id = $1 AND f.check_id = $2`, sgARN, sshCheck))
	require.EqualValues(t, 1, b.one(`SELECT count(*) FROM finding_events e JOIN findings f ON f.id = e.finding_id
		JOIN resources r ON r.id = f.resource_id WHERE r.native_id = $1 AND f.check_id = $2 AND e.kind = 'opened' AND e.scan_id = $3`, sgARN, sshCheck, s2.ID))
	require.Equal(t, "fail", b.one(`SELECT f.status FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.name = 'drift-bucket' AND f.check_id = 'aws.s3.bucket_no_public_read'`))
	require.EqualValues(t, 2, b.one("SELECT count(*) FROM posture_snapshots"))

	// Close SSH again: the finding resolves.
	_, err = ec2c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	require.NoError(t, err)
	_, err = iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	require.NoError(t, err)
	s3r := b.scan()
	require.Equal(t, store.ScanCompleted, s3r.Status)
	require.Equal(t, "resolved", b.one(`SELECT f.state FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.native_id = $1 AND f.check_id = $2`, sgARN, sshCheck))
	require.Equal(t, "deleted", b.one(`SELECT v.change FROM resource_versions v JOIN resources r ON r.id = v.resource_id
		WHERE r.type = 'aws.iam.user' AND r.name = 'bob' AND v.version = 2`))
	require.NotNil(t, b.one("SELECT deleted_at FROM resources WHERE type = 'aws.iam.user' AND name = 'bob'"))
	// bob's findings resolved because the user is gone, not left open.
	require.EqualValues(t, 0, b.one(`SELECT count(*) FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.name = 'bob' AND f.state = 'open'`))
}

func TestCollectionGapKeepsFindings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cfg := b.moto.Config(t, "us-east-1")
	ec2c := ec2.NewFromConfig(cfg)
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("open"), Description: aws.String("open")})
	require.NoError(t, err)
	_, err = ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	require.NoError(t, err)

	s1 := b.scan()
	require.Equal(t, store.ScanCompleted, s1.Status)
	before := b.query(`SELECT f.id, f.state, f.status, f.last_scan_id FROM findings f WHERE f.resource_type = 'aws.ec2.security_group' ORDER BY f.id`)
	require.NotEmpty(t, before)
	sgCollector := b.one(`SELECT DISTINCT collector FROM scan_units WHERE 'aws.ec2.security_group' = ANY(types)`).(string)

	// The group is deleted, but the security-group unit is denied this time: nothing
	// about security groups may be concluded.
	_, err = ec2c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	require.NoError(t, err)
	b.failUnit.Store(&unitFault{collector: sgCollector, kind: providers.KindAccessDenied})
	s2 := b.scan()
	require.Equal(t, store.ScanPartial, s2.Status)
	require.Equal(t, 1, s2.UnitsFailed)
	require.Contains(t, s2.Error, sgCollector)
	require.Contains(t, s2.Error, "access_denied")
	unit := b.query("SELECT status, error_kind, attempts FROM scan_units WHERE scan_id = $1 AND collector = $2", s2.ID, sgCollector)[0]
	require.Equal(t, "failed", unit["status"])
	require.EqualValues(t, 1, unit["attempts"], "AccessDenied is not retried")
	after := b.query(`SELECT f.id, f.state, f.status, f.last_scan_id FROM findings f WHERE f.resource_type = 'aws.ec2.security_group' ORDER BY f.id`)
	require.Equal(t, before, after, "findings of the failed unit are untouched")
	require.Nil(t, b.one("SELECT deleted_at FROM resources WHERE native_id LIKE $1", "%"+*sg.GroupId))

	// Throttling past the retries also ends as a gap, after retrying.
	b.failUnit.Store(nil)
	s3r := b.scan()
	require.Equal(t, store.ScanCompleted, s3r.Status)
	require.NotNil(t, b.one("SELECT deleted_at FROM resources WHERE native_id LIKE $1", "%"+*sg.GroupId), "a complete unit does see the deletion")
	require.Equal(t, "resolved", b.one(`SELECT DISTINCT f.state FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.native_id LIKE $1 AND f.status = 'fail'`, "%"+*sg.GroupId))
}

// TestCrashedUnitConverges: a unit that dies mid-collection (after emitting part of its
// documents) is retried and the result equals an uninterrupted scan's; a redelivered
// job for a finished unit changes nothing.
func TestCrashedUnitConverges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	iamc := iam.NewFromConfig(b.moto.Config(t, "us-east-1"))
	for i := 0; i < 5; i++ {
		_, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user%d", i))})
		require.NoError(t, err)
	}
	userCollector := "iam"
	b.failUnit.Store(&unitFault{collector: userCollector, once: true})
	s1 := b.scan()
	require.Equal(t, store.ScanCompleted, s1.Status, s1.Error)
	require.EqualValues(t, 2, b.one("SELECT attempts FROM scan_units WHERE scan_id = $1 AND collector = $2", s1.ID, userCollector))
	require.EqualValues(t, 5, b.one("SELECT count(*) FROM resources WHERE type = 'aws.iam.user'"))
	require.EqualValues(t, 5, b.one("SELECT count(*) FROM resource_versions v JOIN resources r ON r.id = v.resource_id WHERE r.type = 'aws.iam.user'"))
	findings := b.one("SELECT count(*) FROM findings")
	events := b.one("SELECT count(*) FROM finding_events")

	// Redeliver the finished unit's job: no new rows.
	unit := b.query("SELECT collector, service, region, types FROM scan_units WHERE scan_id = $1 AND collector = $2", s1.ID, userCollector)[0]
	var types []string
	for _, x := range unit["types"].([]any) {
		types = append(types, x.(string))
	}
	_, err := b.client.River.Insert(ctx, jobs.CollectUnitArgs{TenantID: b.tenant, AccountID: b.account, ScanID: s1.ID,
		Unit: providers.Unit{Collector: userCollector, Service: unit["service"].(string), Region: unit["region"].(string), Types: types}},
		&river.InsertOpts{UniqueOpts: river.UniqueOpts{}})
	require.NoError(t, err)
	for ev := range b.done {
		if ev.Job.Kind == "collect_unit" {
			break
		}
	}
	require.EqualValues(t, 5, b.one("SELECT count(*) FROM resource_versions v JOIN resources r ON r.id = v.resource_id WHERE r.type = 'aws.iam.user'"))
	require.Equal(t, findings, b.one("SELECT count(*) FROM findings"))
	require.Equal(t, events, b.one("SELECT count(*) FROM finding_events"))

	// A second scan of the unchanged estate writes no version at all.
	s2 := b.scan()
	require.Equal(t, store.ScanCompleted, s2.Status)
	require.Zero(t, s2.Created+s2.Modified+s2.Deleted, "nothing changed")
	require.EqualValues(t, 0, b.one("SELECT count(*) FROM resource_versions WHERE scan_id = $1", s2.ID))
}

// TestCancelWhileUnitWrites: a unit writes its documents before it takes its scan's
// lock (so that units write in parallel); when the scan is cancelled while the unit
// waits for that lock, the unit keeps nothing and its job completes without retrying.
func TestCancelWhileUnitWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	iamc := iam.NewFromConfig(b.moto.Config(t, "us-east-1"))
	_, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("held")})
	require.NoError(t, err)
	hold := &unitHold{collector: "iam", collected: make(chan struct{}), release: make(chan struct{})}
	b.holdUnit.Store(hold)
	var scan store.Scan
	require.NoError(t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		scan, err = jobs.EnqueueScan(ctx, b.client.River, tx, b.tenant, b.account, "manual", "test")
		return err
	}))
	select {
	case <-hold.collected:
	case <-time.After(scanTimeout):
		t.Fatal("the iam unit was never collected")
	}
	// Every other unit finishes first, so that the only one left to wait for the scan's
	// lock is the held one.
	waitFor(t, "the other units to finish", func() bool {
		return b.one("SELECT count(*) FROM scan_units WHERE scan_id = $1 AND collector <> 'iam' AND status IN ('pending', 'running')", scan.ID) == int64(0)
	})
	// The unit writes its documents, then waits for the scan's lock.
	b.cancelHoldingLock(scan.ID, func() { close(hold.release) }, "the unit to wait for the scan's lock",
		`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM scans%FOR UPDATE%'`)
	b.requireCompletedOnce("the held unit's job", func(ev *river.Event) bool {
		var args jobs.CollectUnitArgs
		return ev.Job.Kind == "collect_unit" && json.Unmarshal(ev.Job.EncodedArgs, &args) == nil && args.Unit.Collector == "iam"
	})
	require.EqualValues(t, 0, b.one("SELECT count(*) FROM resources WHERE type = 'aws.iam.user'"), "the cancelled unit stored nothing")
	require.Equal(t, "cancelled", b.one("SELECT status FROM scans WHERE id = $1", scan.ID))
	require.Equal(t, "cancelled", b.one("SELECT status FROM scan_units WHERE scan_id = $1 AND collector = 'iam'", scan.ID))
}

// TestCancelDuringEvaluation: an evaluation does its work before it takes the scan's
// lock, so a cancel does not wait for it; a scan cancelled while the evaluation waits
// for that lock keeps nothing of it (findings, posture), and the job completes.
func TestCancelDuringEvaluation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s1 := b.scan()
	require.Equal(t, store.ScanCompleted, s1.Status, s1.Error)
	require.NotZero(t, b.one("SELECT count(*) FROM findings WHERE last_scan_id = $1", s1.ID))

	// A second scan with its collection done (no units), whose evaluation the test
	// starts itself while it holds the scan's row lock, as a cancel in progress would.
	var s2 store.Scan
	require.NoError(t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		var err error
		if s2, err = store.ScanCreate(ctx, tx, b.account, "manual", "test"); err != nil {
			return err
		}
		return store.ScanStart(ctx, tx, s2.ID, nil)
	}))
	// The evaluation writes its findings, then waits for the scan's lock.
	b.cancelHoldingLock(s2.ID, func() {
		_, err := b.client.River.Insert(ctx, jobs.EvaluateScanArgs{TenantID: b.tenant, AccountID: b.account, ScanID: s2.ID}, nil)
		require.NoError(t, err)
	}, "the evaluation to wait for the scan's lock after writing findings",
		`SELECT count(*) FROM pg_stat_activity a
		JOIN pg_locks l ON l.pid = a.pid AND l.granted AND l.mode = 'RowExclusiveLock'
			AND l.relation = (SELECT oid FROM pg_class WHERE relname = 'findings')
		WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'`)
	b.requireCompletedOnce("the evaluation's job", func(ev *river.Event) bool { return ev.Job.Kind == "evaluate_scan" })
	require.Equal(t, "cancelled", b.one("SELECT status FROM scans WHERE id = $1", s2.ID))
	require.EqualValues(t, 0, b.one("SELECT count(*) FROM findings WHERE last_scan_id = $1", s2.ID), "the cancelled evaluation's findings were rolled back")
	require.EqualValues(t, 0, b.one("SELECT count(*) FROM posture_snapshots WHERE scan_id = $1", s2.ID))
}

// cancelHoldingLock cancels a scan the way the API does, under the scan's row lock,
// but holds that lock first: start sets a job going, and the cancel waits until the
// owner's count query says one backend is where the test wants it (waiting for the
// lock after its writes).
func (b *bundle) cancelHoldingLock(scanID uuid.UUID, start func(), what, waitingQuery string) {
	b.t.Helper()
	ctx := context.Background()
	require.NoError(b.t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		if _, err := store.ScanGetForUpdate(ctx, tx, scanID); err != nil {
			return err
		}
		start()
		waitFor(b.t, what, func() bool {
			var n int
			require.NoError(b.t, b.db.Owner.QueryRow(ctx, waitingQuery).Scan(&n))
			return n == 1
		})
		return store.ScanCancel(ctx, tx, scanID)
	}))
}

// requireCompletedOnce waits for the job that match picks out and requires that it
// completed at its first attempt (no error, no retry).
func (b *bundle) requireCompletedOnce(what string, match func(*river.Event) bool) {
	b.t.Helper()
	deadline := time.After(scanTimeout)
	for {
		select {
		case ev := <-b.done:
			if !match(ev) {
				continue
			}
			require.Equal(b.t, river.EventKindJobCompleted, ev.Kind, "%s: %v", what, ev.Job.Errors)
			require.Empty(b.t, ev.Job.Errors, "%s completed at the first attempt", what)
			return
		case <-deadline:
			b.t.Fatalf("%s did not finish", what)
		}
	}
}

// waitFor polls cond until it holds, failing the test after scanTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(scanTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScanNowIsUniquePerAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	require.NoError(t, b.client.Stop(ctx)) // keep the first scan queued
	err := b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		if _, err := jobs.EnqueueScan(ctx, b.client.River, tx, b.tenant, b.account, "manual", "a"); err != nil {
			return err
		}
		_, err := jobs.EnqueueScan(ctx, b.client.River, tx, b.tenant, b.account, "manual", "b")
		return err
	})
	require.ErrorIs(t, err, store.ErrScanActive)
}

func TestNextRun(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	next, err := jobs.NextRun("0 3 * * *", "UTC", at)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC), next)
	next, err = jobs.NextRun("0 3 * * *", "Europe/Paris", at)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), next, "03:00 in Paris is 02:00 UTC in winter")
	_, err = jobs.NextRun("61 * * * *", "UTC", at)
	require.Error(t, err)
	_, err = jobs.NextRun("0 3 * * *", "Mars/Olympus", at)
	require.Error(t, err)
}

// testTypes are the types these tests collect: the ones they change, and the account.
var testTypes = []string{"aws.account", "aws.iam.user", "aws.s3.bucket", "aws.ec2.security_group", "aws.ec2.instance", "aws.ec2.vpc"}

// scanTimeout bounds one scan against moto.
var scanTimeout = 3 * time.Minute

func testLogger() *slog.Logger {
	if os.Getenv("VIGIL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// TestCustomChecksEvaluated: a tenant's own check runs in every scan, beside the
// built-in ones, and its findings carry the custom. id.
func TestCustomChecksEvaluated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(b.moto.Config(t, "us-east-1"), awstest.S3Options)
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("untagged-bucket")})
	require.NoError(t, err)
	yaml := `id: custom.aws.s3.bucket_owner_tag
title: S3 bucket names its owner
severity: medium
resource: aws.s3.bucket
description: Every bucket carries an owner tag.
risk: Nobody answers for an unowned bucket.
remediation:
  text: Tag the bucket with its owner.
assert: "'owner' in resource.tags"
message: "'bucket ' + resource.name + ' has no owner tag'"
`
	require.NoError(t, b.db.App.TenantTx(ctx, b.tenant, func(tx pgx.Tx) error {
		_, err := store.CustomCheckCreate(ctx, tx, store.CustomCheck{CheckID: "custom.aws.s3.bucket_owner_tag", Title: "S3 bucket names its owner",
			Severity: "medium", ResourceType: "aws.s3.bucket", YAML: yaml, CreatedBy: "test"})
		return err
	}))
	s := b.scan()
	require.Equal(t, store.ScanCompleted, s.Status, s.Error)
	row := b.query(`SELECT f.status, f.state, f.message FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.name = 'untagged-bucket' AND f.check_id = 'custom.aws.s3.bucket_owner_tag'`)
	require.Len(t, row, 1)
	require.Equal(t, "fail", row[0]["status"])
	require.Equal(t, "open", row[0]["state"])
	require.Equal(t, "bucket untagged-bucket has no owner tag", row[0]["message"])
}

// TestFailedAccountUnitMakesAccountChecksUnknown: with the account unit denied, checks
// of other resources that read the account document do not decide on the last scan's
// copy of it: they are unknown and their findings keep their state.
func TestFailedAccountUnitMakesAccountChecksUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(b.moto.Config(t, "us-east-1"), awstest.S3Options)
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acct-bucket")})
	require.NoError(t, err)
	s1 := b.scan()
	require.Equal(t, store.ScanCompleted, s1.Status)
	check := "aws.s3.bucket_public_access_blocked" // reads the account-level block too
	before := b.query(`SELECT f.state, f.status FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.name = 'acct-bucket' AND f.check_id = $1`, check)
	require.Len(t, before, 1)
	require.NotEqual(t, "unknown", before[0]["status"])

	b.failUnit.Store(&unitFault{collector: "account", kind: providers.KindAccessDenied})
	s2 := b.scan()
	require.Equal(t, store.ScanPartial, s2.Status)
	after := b.query(`SELECT f.state, f.status FROM findings f JOIN resources r ON r.id = f.resource_id
		WHERE r.name = 'acct-bucket' AND f.check_id = $1`, check)
	require.Equal(t, "unknown", after[0]["status"])
	require.Equal(t, before[0]["state"], after[0]["state"], "the state is kept")
}
