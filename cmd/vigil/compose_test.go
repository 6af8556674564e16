package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/stretchr/testify/require"
)

// TestDockerCompose loads docker-compose.yml with the Compose specification's own loader
// (no Docker engine runs here) and checks it against the binary: every service runs a
// real vigil subcommand, builds from the Dockerfile, and gets its settings.
func TestDockerCompose(t *testing.T) {
	t.Parallel()
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"},
		cli.WithWorkingDirectory("../.."), cli.WithOsEnv, cli.WithName("vigil"))
	require.NoError(t, err)
	project, err := opts.LoadProject(context.Background())
	require.NoError(t, err)

	pg, ok := project.Services["postgres"]
	require.True(t, ok, "a postgres service")
	require.True(t, strings.HasPrefix(pg.Image, "postgres:16"))
	require.NotNil(t, pg.HealthCheck)
	require.Contains(t, project.Volumes, "pgdata")

	root := newRootCmd()
	for _, name := range []string{"migrate", "api", "worker"} {
		svc, ok := project.Services[name]
		require.True(t, ok, "service %s", name)
		require.NotNil(t, svc.Build, "%s builds the image", name)
		require.Equal(t, "Dockerfile", svc.Build.Dockerfile)
		require.NotEmpty(t, svc.Command, "%s has a command", name)
		sub, rest, err := root.Find(svc.Command)
		require.NoError(t, err, "%s: %v is not a vigil command", name, svc.Command)
		require.NotEqual(t, root, sub, "%s: %v is not a vigil subcommand", name, svc.Command)
		require.True(t, sub.Runnable(), "%s: %v needs a subcommand", name, svc.Command)
		require.Empty(t, rest, "%s: %v has stray arguments", name, svc.Command)
		require.Contains(t, svc.Environment, "VIGIL_DATABASE_URL")
		require.Contains(t, svc.Environment, "VIGIL_MASTER_KEY", "env_file .env.example is loaded")
	}
	require.Contains(t, project.Services["migrate"].DependsOn, "postgres")
	require.Equal(t, "service_completed_successfully", project.Services["api"].DependsOn["migrate"].Condition)

	// The health check runs a vigil subcommand too.
	hc := project.Services["api"].HealthCheck
	require.NotNil(t, hc)
	_, _, err = root.Find(hc.Test[2:3])
	require.NoError(t, err)

	df, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	require.Contains(t, string(df), "go build")
	require.Contains(t, string(df), "./cmd/vigil")
	require.Contains(t, string(df), "USER nonroot")
	require.Contains(t, string(df), `ENTRYPOINT ["/usr/local/bin/vigil"]`)
}
