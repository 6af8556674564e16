package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

// applyAt stores docs as one unit of the IAM user collector observed at `at`.
func applyAt(t *testing.T, db *storetest.DB, tenant, account uuid.UUID, at time.Time, complete bool, docs ...providers.Resource) store.ChangeCounts {
	t.Helper()
	unit := providers.Unit{Collector: "iam_users", Service: "iam", Region: providers.RegionGlobal, Types: []string{"aws.iam.user"}}
	var counts store.ChangeCounts
	require.NoError(t, db.App.TenantTx(context.Background(), tenant, func(tx pgx.Tx) error {
		var err error
		counts, err = store.ResourceApplyUnit(context.Background(), tx, store.ApplyUnitParams{AccountID: account, ScanID: uuid.New(),
			ObservedAt: at, Unit: unit, Docs: docs, Complete: complete})
		return err
	}))
	return counts
}

// createAccount creates an AWS account of the tenant and returns its id.
func createAccount(tb testing.TB, db *storetest.DB, tenant uuid.UUID) uuid.UUID {
	tb.Helper()
	account := uuid.New()
	require.NoError(tb, db.App.TenantTx(context.Background(), tenant, func(tx pgx.Tx) error {
		_, err := store.AccountCreate(context.Background(), tx, store.Account{ID: account, Provider: "aws", Name: account.String()[:8],
			CredentialKind: "default_chain", Config: map[string]any{}, Regions: []string{}, Schedule: "0 3 * * *", Timezone: "UTC"})
		return err
	}))
	return account
}

func iamUser(name, lastUsed string, extra map[string]any) providers.Resource {
	props := map[string]any{"UserName": name, "AccessKeys": []any{map[string]any{"AccessKeyId": "AKIA" + name, "Status": "Active", "LastUsedDate": lastUsed}}}
	for k, v := range extra {
		props[k] = v
	}
	return providers.Resource{Provider: "aws", AccountID: "123456789012", Type: "aws.iam.user", Region: providers.RegionGlobal,
		NativeID: "arn:aws:iam::123456789012:user/" + name, Name: name, Tags: map[string]string{"team": "core"}, Properties: props}
}

type rowState struct {
	id       uuid.UUID
	xmin     uint32
	version  int
	lastSeen time.Time
	deleted  *time.Time
	props    map[string]any
	gaps     []providers.Gap
	versions []store.ResourceVersion
}

func readRow(t *testing.T, db *storetest.DB, tenant uuid.UUID, native string) rowState {
	t.Helper()
	var s rowState
	ctx := context.Background()
	require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
		var xmin int64
		if err := tx.QueryRow(ctx, `SELECT id, xmin::text::bigint, version, deleted_at, properties, gaps FROM resources WHERE native_id = $1`, native).
			Scan(&s.id, &xmin, &s.version, &s.deleted, &s.props, &s.gaps); err != nil {
			return err
		}
		s.xmin = uint32(xmin)
		page, err := store.ResourceList(ctx, tx, store.ResourceFilter{Q: native, IncludeDeleted: true}, nil, 10)
		if err != nil {
			return err
		}
		require.Len(t, page.Items, 1)
		s.lastSeen = page.Items[0].LastSeen
		d, err := store.ResourceGet(ctx, tx, s.id)
		if err != nil {
			return err
		}
		require.True(t, d.LastSeen.Equal(s.lastSeen), "detail and list agree on last_seen")
		s.versions, err = store.ResourceVersions(ctx, tx, s.id, 0, 100)
		return err
	}))
	return s
}

// TestApplyUnitWritesOnlyWhatChanged: an unchanged document's row is not rewritten
// (its xmin stays) yet its last_seen follows the unit's observation; a volatile value
// or a gap that moves refreshes the row without a version; drift makes a version;
// a resource missing from a completed unit is deleted with last_seen at its last
// sighting; an incomplete unit moves last_seen row by row and deletes nothing.
func TestApplyUnitWritesOnlyWhatChanged(t *testing.T) {
	db := storetest.New(t)
	tenant := db.NewTenant(t, "apply")
	account := createAccount(t, db, tenant)
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	alice := "arn:aws:iam::123456789012:user/alice"
	bob := "arn:aws:iam::123456789012:user/bob"

	c := applyAt(t, db, tenant, account, t0, true, iamUser("alice", "2026-10-01", nil), iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Created: 2}, c)
	first := readRow(t, db, tenant, alice)
	require.True(t, first.lastSeen.Equal(t0))
	require.Len(t, first.versions, 1)

	// Nothing changed: no row is written, last_seen moves with the unit.
	t1 := t0.Add(24 * time.Hour)
	c = applyAt(t, db, tenant, account, t1, true, iamUser("alice", "2026-10-01", nil), iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Unchanged: 2}, c)
	same := readRow(t, db, tenant, alice)
	require.Equal(t, first.xmin, same.xmin, "an unchanged resource's row must not be rewritten")
	require.True(t, same.lastSeen.Equal(t1), "last_seen %s, want %s", same.lastSeen, t1)
	require.Len(t, same.versions, 1)

	// A volatile value moved: the stored document follows, no drift version.
	t2 := t1.Add(24 * time.Hour)
	c = applyAt(t, db, tenant, account, t2, true, iamUser("alice", "2026-11-02", nil), iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Unchanged: 2}, c)
	refreshed := readRow(t, db, tenant, alice)
	require.NotEqual(t, same.xmin, refreshed.xmin)
	require.Equal(t, "2026-11-02", refreshed.props["AccessKeys"].([]any)[0].(map[string]any)["LastUsedDate"])
	require.Len(t, refreshed.versions, 1)
	require.True(t, refreshed.lastSeen.Equal(t2))

	// A gap appears: it is stored (checks need it), the missing property keeps its last
	// known value, and there is no version.
	t3 := t2.Add(24 * time.Hour)
	gappy := iamUser("alice", "2026-11-02", nil)
	delete(gappy.Properties, "AccessKeys")
	gappy.Gaps = []providers.Gap{{Property: "AccessKeys", Operation: "iam:ListAccessKeys", Kind: providers.KindAccessDenied, Message: "denied"}}
	c = applyAt(t, db, tenant, account, t3, true, gappy, iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Unchanged: 2}, c)
	withGap := readRow(t, db, tenant, alice)
	require.Len(t, withGap.gaps, 1)
	require.NotNil(t, withGap.props["AccessKeys"], "the last known value is kept")
	require.Len(t, withGap.versions, 1)

	// Drift: a version with its patch.
	t4 := t3.Add(24 * time.Hour)
	c = applyAt(t, db, tenant, account, t4, true, iamUser("alice", "2026-11-02", map[string]any{"PermissionsBoundary": "arn:aws:iam::aws:policy/ReadOnly"}),
		iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Modified: 1, Unchanged: 1}, c)
	drifted := readRow(t, db, tenant, alice)
	require.Len(t, drifted.versions, 2)
	require.Equal(t, "modified", drifted.versions[0].Change)
	require.Equal(t, 1, drifted.versions[0].PatchOps)
	require.True(t, drifted.lastSeen.Equal(t4))

	// An incomplete unit that saw only bob: bob's last_seen moves, alice stays.
	t5 := t4.Add(24 * time.Hour)
	c = applyAt(t, db, tenant, account, t5, false, iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Unchanged: 1}, c)
	require.True(t, readRow(t, db, tenant, bob).lastSeen.Equal(t5))
	require.True(t, readRow(t, db, tenant, alice).lastSeen.Equal(t4))
	require.Nil(t, readRow(t, db, tenant, alice).deleted)

	// A completed unit without bob: bob is deleted, last seen at t5.
	t6 := t5.Add(24 * time.Hour)
	c = applyAt(t, db, tenant, account, t6, true, iamUser("alice", "2026-11-02", map[string]any{"PermissionsBoundary": "arn:aws:iam::aws:policy/ReadOnly"}))
	require.Equal(t, store.ChangeCounts{Deleted: 1, Unchanged: 1}, c)
	gone := readRow(t, db, tenant, bob)
	require.NotNil(t, gone.deleted)
	require.True(t, gone.deleted.Equal(t6))
	require.True(t, gone.lastSeen.Equal(t5), "a deleted resource was last seen at %s, got %s", t5, gone.lastSeen)
	require.Equal(t, "deleted", gone.versions[0].Change)
	require.True(t, readRow(t, db, tenant, alice).lastSeen.Equal(t6))

	// It comes back: a version again, and last_seen follows the unit from then on.
	t7 := t6.Add(24 * time.Hour)
	c = applyAt(t, db, tenant, account, t7, true, iamUser("alice", "2026-11-02", map[string]any{"PermissionsBoundary": "arn:aws:iam::aws:policy/ReadOnly"}),
		iamUser("bob", "2026-10-01", nil))
	require.Equal(t, store.ChangeCounts{Modified: 1, Unchanged: 1}, c)
	back := readRow(t, db, tenant, bob)
	require.Nil(t, back.deleted)
	require.True(t, back.lastSeen.Equal(t7))
}

// Deleting an account removes its resources and their drift history (a trigger, not a
// foreign key, cascades to the versions), and nothing of another account.
func TestAccountDeleteRemovesHistory(t *testing.T) {
	db := storetest.New(t)
	tenant := db.NewTenant(t, "cascade")
	ctx := context.Background()
	accounts := make([]uuid.UUID, 2)
	for i := range accounts {
		accounts[i] = createAccount(t, db, tenant)
		a := accounts[i]
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		applyAt(t, db, tenant, a, at, true, iamUser("alice", "x", nil), iamUser("bob", "x", nil))
		applyAt(t, db, tenant, a, at.Add(time.Hour), true, iamUser("alice", "x", map[string]any{"Path": "/admin/"}))
	}
	count := func() (versions, resources int) {
		require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM resource_versions").Scan(&versions); err != nil {
				return err
			}
			return tx.QueryRow(ctx, "SELECT count(*) FROM resources").Scan(&resources)
		}))
		return
	}
	v, r := count()
	require.Equal(t, 8, v) // per account: 2 created, 1 modified, 1 deleted
	require.Equal(t, 4, r)
	require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error { return store.AccountDelete(ctx, tx, accounts[0]) }))
	v, r = count()
	require.Equal(t, 4, v)
	require.Equal(t, 2, r)
}

// A unit's first scan of its types inserts without conflict handling; when a native
// id is already stored under another type, it falls back to the general path and
// writes the change as a version.
func TestApplyUnitFirstScanFallsBackOnConflict(t *testing.T) {
	db := storetest.New(t)
	tenant := db.NewTenant(t, "fallback")
	ctx := context.Background()
	account := createAccount(t, db, tenant)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, store.ChangeCounts{Created: 2}, applyAt(t, db, tenant, account, at, true, iamUser("alice", "x", nil), iamUser("bob", "x", nil)))

	moved := iamUser("alice", "x", nil)
	moved.Type = "aws.iam.legacy_user"
	unit := providers.Unit{Collector: "iam_legacy", Service: "iam", Region: providers.RegionGlobal, Types: []string{"aws.iam.legacy_user"}}
	var c store.ChangeCounts
	require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		c, err = store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: account, ScanID: uuid.New(),
			ObservedAt: at.Add(time.Hour), Unit: unit, Docs: []providers.Resource{moved, {Provider: "aws", AccountID: "123456789012",
				Type: "aws.iam.legacy_user", Region: providers.RegionGlobal, NativeID: "legacy-1", Name: "legacy-1"}}, Complete: true})
		return err
	}))
	require.Equal(t, store.ChangeCounts{Created: 1, Modified: 1}, c)
	row := readRow(t, db, tenant, "arn:aws:iam::123456789012:user/alice")
	require.Len(t, row.versions, 2)
	require.Equal(t, "modified", row.versions[0].Change)
}

// The reference from a resource to its cloud account is kept per statement (migration
// 0007): a resource of an account that does not exist is refused, even in a statement
// that also writes resources of an existing account, and a resource cannot be moved
// to another account or tenant.
func TestResourcesReferenceTheirAccount(t *testing.T) {
	db := storetest.New(t)
	tenant := db.NewTenant(t, "reference")
	ctx := context.Background()
	account := createAccount(t, db, tenant)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	applyAt(t, db, tenant, account, at, true, iamUser("alice", "x", nil))

	unit := providers.Unit{Collector: "iam_users", Service: "iam", Region: providers.RegionGlobal, Types: []string{"aws.iam.user"}}
	refused := func(t *testing.T, err error) {
		t.Helper()
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "23503", pgErr.Code) // foreign_key_violation
	}
	refused(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
		_, err := store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: uuid.New(), ScanID: uuid.New(),
			ObservedAt: at, Unit: unit, Docs: []providers.Resource{iamUser("bob", "x", nil)}, Complete: true})
		return err
	}))
	// Any other insert: one statement with rows of an existing and a missing account.
	refused(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO resources (tenant_id, id, account_id, native_id, type, region, content_hash, first_seen, last_seen)
			SELECT tenant_id, gen_random_uuid(), a, 'copy-' || a, type, region, content_hash, first_seen, last_seen
			FROM resources, unnest(ARRAY[$1, $2]::uuid[]) AS a`, account, uuid.New())
		return err
	}))

	for _, column := range []string{"account_id", "tenant_id"} {
		err := db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE resources SET "+column+" = $1", uuid.New())
			return err
		})
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, column)
		require.Equal(t, "42501", pgErr.Code, column) // insufficient_privilege
	}
}

// A document is stored exactly as collected, whichever path writes it: the first
// scan's binary array insert and the general path's upsert, with non-ASCII text,
// gaps, relations and nested properties.
func TestApplyUnitStoresDocumentsExactly(t *testing.T) {
	db := storetest.New(t)
	tenant := db.NewTenant(t, "exact")
	ctx := context.Background()
	docs := []providers.Resource{
		iamUser("zoë", "2026-10-01T00:00:00Z", map[string]any{"Path": "/équipe/☃/", "Nested": map[string]any{"n": 1.5, "list": []any{true, nil, "x\"y\\z\n"}}}),
		iamUser("bob", "x", nil),
	}
	docs[0].Tags = map[string]string{"owner": "Zoë Ærø", "empty": ""}
	docs[0].Relations = []providers.Relation{{Kind: "group", TargetID: "arn:aws:iam::123456789012:group/ops", TargetType: "aws.iam.group"}}
	docs[1].Gaps = []providers.Gap{{Property: "AccessKeys", Operation: "iam:ListAccessKeys", Kind: providers.KindAccessDenied, Message: "denied"}}
	delete(docs[1].Properties, "AccessKeys")

	unit := providers.Unit{Collector: "iam_users", Service: "iam", Region: providers.RegionGlobal, Types: []string{"aws.iam.user"}}
	stored := func(docs []providers.Resource) map[string]providers.Resource {
		account := createAccount(t, db, tenant)
		// The last document alone first: writing all of them then takes the general path.
		for _, batch := range [][]providers.Resource{docs[len(docs)-1:], docs} {
			require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
				_, err := store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: account, ScanID: uuid.New(),
					ObservedAt: time.Now(), Unit: unit, Docs: batch, Complete: true})
				return err
			}))
			if len(docs) == 1 {
				break
			}
		}
		out := map[string]providers.Resource{}
		require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
			current, err := store.ResourceCurrent(ctx, tx, account)
			for _, c := range current {
				out[c.Doc.NativeID] = c.Doc
				// The first version's document is the collected document.
				v, err := store.ResourceVersionGet(ctx, tx, c.ID, 1)
				require.NoError(t, err)
				for _, want := range docs {
					if want.NativeID == c.Doc.NativeID {
						b, err := json.Marshal(want)
						require.NoError(t, err)
						var doc map[string]any
						require.NoError(t, json.Unmarshal(b, &doc))
						require.Equal(t, doc, v.Document)
					}
				}
			}
			return err
		}))
		return out
	}
	for name, got := range map[string]map[string]providers.Resource{
		"first scan":   stored(docs[:1]),
		"general path": stored([]providers.Resource{docs[0], docs[1]}),
	} {
		t.Run(name, func(t *testing.T) {
			for _, want := range docs[:len(got)] {
				g, ok := got[want.NativeID]
				require.True(t, ok, want.NativeID)
				g.Provider, g.AccountID = want.Provider, want.AccountID
				if len(g.Relations) == 0 && want.Relations == nil {
					g.Relations = nil
				}
				if len(g.Gaps) == 0 && want.Gaps == nil {
					g.Gaps = nil
				}
				require.Equal(t, want, g)
			}
		})
	}
}
