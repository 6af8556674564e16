package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store/storetest"
)

// run executes the CLI in-process with the given environment.
func run(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	// Commands read the environment through lookupEnv; tests in this file run serially.
	old := lookupEnv
	lookupEnv = envOf(env)
	defer func() { lookupEnv = old }()
	err := cmd.ExecuteContext(context.Background())
	return out.String() + errOut.String(), err
}

func TestCLITenantAndKeys(t *testing.T) {
	db := storetest.New(t)
	env := map[string]string{"VIGIL_DATABASE_URL": db.URL}

	out, err := run(t, env, "tenant", "create", "--name", "Acme Inc", "--owner-email", "sec@acme.example")
	require.NoError(t, err, out)
	require.Contains(t, out, "(acme-inc)")
	pw := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(out)
	require.Len(t, pw, 2)

	var hash string
	require.NoError(t, db.Owner.QueryRow(context.Background(), "SELECT password_hash FROM users WHERE email = 'sec@acme.example'").Scan(&hash))
	require.NoError(t, auth.VerifyPassword(hash, pw[1]), "the printed one-time password works")

	_, err = run(t, env, "tenant", "create", "--name", "Acme Inc", "--owner-email", "x@acme.example")
	require.ErrorContains(t, err, `slug "acme-inc" already exists`)
	_, err = run(t, env, "tenant", "create", "--name", "", "--owner-email", "bad")
	require.ErrorContains(t, err, "--name is required")
	require.ErrorContains(t, err, "--owner-email")

	out, err = run(t, env, "apikey", "create", "--tenant", "acme-inc", "--role", "analyst")
	require.NoError(t, err, out)
	key := regexp.MustCompile(`vgl_\S+`).FindString(out)
	require.True(t, auth.LooksLikeAPIKey(key), out)
	var role string
	require.NoError(t, db.Owner.QueryRow(context.Background(), "SELECT role FROM api_keys WHERE secret_hash = $1", auth.HashToken(key)).Scan(&role))
	require.Equal(t, "analyst", role)

	_, err = run(t, env, "apikey", "create", "--tenant", "nope", "--role", "viewer")
	require.ErrorContains(t, err, `tenant "nope"`)
	_, err = run(t, env, "apikey", "create", "--tenant", "acme-inc", "--role", "god")
	require.ErrorContains(t, err, "--role must be")

	out, err = run(t, env, "demo", "seed")
	require.NoError(t, err, out)
	require.Contains(t, out, "demo@vigil.local")
	// The recorded estate was scanned twice, a day apart: drift and findings exist.
	var scans, modified, failing int
	require.NoError(t, db.Owner.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM scans WHERE status = 'completed'),
		(SELECT count(*) FROM resource_versions WHERE change = 'modified'),
		(SELECT count(*) FROM findings WHERE status = 'fail')`).Scan(&scans, &modified, &failing))
	require.Equal(t, 2, scans)
	require.Positive(t, modified)
	require.Positive(t, failing)
	out, err = run(t, env, "demo", "seed")
	require.NoError(t, err, "seeding twice is fine: %s", out)

	var n int
	require.NoError(t, db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE actor_type = 'system'").Scan(&n))
	require.Equal(t, 2, n, "tenant and key creation are audited")
}

func TestCLIHelpEverywhere(t *testing.T) {
	root := newRootCmd()
	var paths [][]string
	var visit func(prefix []string, cmds []*cobra.Command)
	visit = func(prefix []string, cmds []*cobra.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, prefix...), c.Name())
			paths = append(paths, p)
			visit(p, c.Commands())
		}
	}
	visit(nil, root.Commands())
	require.GreaterOrEqual(t, len(paths), 10)
	for _, p := range paths {
		out, err := run(t, nil, append(p, "--help")...)
		require.NoError(t, err, strings.Join(p, " "))
		require.Contains(t, out, "Usage:", strings.Join(p, " "))
	}
}
