package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/store/storetest"
)

func TestObjectLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	a := db.NewTenant(t, "Alpha")
	b := db.NewTenant(t, "Beta")

	release, err := db.App.ObjectLock(ctx, a, "/api/v1/settings")
	require.NoError(t, err)

	// Another object, or the same path in another tenant, is not blocked.
	for _, other := range []func() (func(), error){
		func() (func(), error) { return db.App.ObjectLock(ctx, a, "/api/v1/accounts/x") },
		func() (func(), error) { return db.App.ObjectLock(ctx, b, "/api/v1/settings") },
	} {
		r, err := other()
		require.NoError(t, err)
		r()
	}

	// The same object waits until the holder releases it.
	got := make(chan error, 1)
	go func() {
		r, err := db.App.ObjectLock(ctx, a, "/api/v1/settings")
		if err == nil {
			r()
		}
		got <- err
	}()
	// Wait until Postgres shows it waiting on the advisory lock.
	require.Eventually(t, func() bool {
		var waiting bool
		err := db.Owner.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database())`).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, 10*time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the second lock did not wait (err %v)", err)
	default:
	}
	release()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the second lock was not granted after the release")
	}

	// A waiter gives up with its context.
	release, err = db.App.ObjectLock(ctx, a, "/api/v1/settings")
	require.NoError(t, err)
	defer release()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = db.App.ObjectLock(short, a, "/api/v1/settings")
	require.Error(t, err)
}
