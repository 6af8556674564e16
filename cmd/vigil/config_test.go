package main

import (
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func envOf(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

var goodKey = base64.StdEncoding.EncodeToString(make([]byte, 32))

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		needs   need
		wantErr []string // every substring must appear in the one error
		check   func(t *testing.T, c *Config)
	}{
		{
			name:  "defaults",
			env:   map[string]string{"VIGIL_DATABASE_URL": "postgres://u@h:5432/db", "VIGIL_MASTER_KEY": goodKey},
			needs: needDatabase | needMasterKey,
			check: func(t *testing.T, c *Config) {
				require.Equal(t, ":8080", c.HTTPAddr)
				require.Equal(t, "json", c.LogFormat)
				require.Equal(t, c.DatabaseURL, c.MigrateDatabaseURL)
				require.Len(t, c.MasterKey, 32)
				require.Equal(t, "http", c.PublicURL.Scheme)
			},
		},
		{
			name:    "unset database url",
			env:     map[string]string{},
			needs:   needDatabase,
			wantErr: []string{"VIGIL_DATABASE_URL is not set"},
		},
		{
			name:    "invalid database url",
			env:     map[string]string{"VIGIL_DATABASE_URL": "mysql://x"},
			needs:   needDatabase,
			wantErr: []string{"VIGIL_DATABASE_URL: want a URL such as postgres://"},
		},
		{
			name: "every problem at once",
			env: map[string]string{"VIGIL_DATABASE_URL": "postgres://u@h/db", "VIGIL_HTTP_ADDR": "8080",
				"VIGIL_LOG_FORMAT": "xml", "VIGIL_MASTER_KEY": "short", "VIGIL_WORKER_CONCURRENCY": "0",
				"VIGIL_SESSION_TTL": "forever", "VIGIL_PUBLIC_URL": "ftp://x"},
			needs: needDatabase | needMasterKey,
			wantErr: []string{`VIGIL_HTTP_ADDR="8080"`, `VIGIL_LOG_FORMAT="xml"`, "VIGIL_MASTER_KEY: want 32 random bytes",
				`VIGIL_WORKER_CONCURRENCY="0"`, `VIGIL_SESSION_TTL="forever"`, `VIGIL_PUBLIC_URL="ftp://x"`},
		},
		{
			name:    "bad port",
			env:     map[string]string{"VIGIL_HTTP_ADDR": ":99999"},
			wantErr: []string{"port must be a number from 0 to 65535"},
		},
		{
			name:    "master key required by serve",
			env:     map[string]string{"VIGIL_DATABASE_URL": "postgres://u@h/db"},
			needs:   needDatabase | needMasterKey,
			wantErr: []string{"VIGIL_MASTER_KEY is not set"},
		},
		{
			name:  "master key from file",
			env:   map[string]string{"VIGIL_MASTER_KEY_FILE": writeTemp(t, goodKey+"\n")},
			needs: needMasterKey,
			check: func(t *testing.T, c *Config) { require.Len(t, c.MasterKey, 32) },
		},
		{
			name:    "unreadable secret file",
			env:     map[string]string{"VIGIL_MASTER_KEY_FILE": "/nonexistent/key"},
			wantErr: []string{"VIGIL_MASTER_KEY_FILE: cannot read /nonexistent/key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadConfig(envOf(tt.env), tt.needs)
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					require.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "secret")
	require.NoError(t, err)
	_, err = f.WriteString(content)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return f.Name()
}

// TestEnvExampleDocumentsEveryVariable keeps .env.example true to the code: every
// VIGIL_* variable the configuration reads is documented there, and nothing else.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("config.go")
	require.NoError(t, err)
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(VIGIL_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		read[m[1]] = true
	}
	example, err := os.ReadFile("../../.env.example")
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, line := range strings.Split(string(example), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "VIGIL_") {
			documented[k] = true
		}
	}
	require.Equal(t, read, documented)
}
