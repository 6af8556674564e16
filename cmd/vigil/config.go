package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the vigil binary. It comes only from the environment,
// parsed and validated once by LoadConfig; .env.example documents each variable.
type Config struct {
	DatabaseURL        string        // VIGIL_DATABASE_URL (required)
	MigrateDatabaseURL string        // VIGIL_MIGRATE_DATABASE_URL (default: DatabaseURL)
	DatabaseMaxConns   int32         // VIGIL_DATABASE_MAX_CONNS (default 20)
	DatabaseRole       string        // VIGIL_DATABASE_ROLE (default vigil_app)
	HTTPAddr           string        // VIGIL_HTTP_ADDR (default :8080)
	WorkerMetricsAddr  string        // VIGIL_WORKER_METRICS_ADDR (default :9090)
	PublicURL          *url.URL      // VIGIL_PUBLIC_URL (default http://localhost:8080)
	LogFormat          string        // VIGIL_LOG_FORMAT: json | text (default json)
	LogLevel           slog.Level    // VIGIL_LOG_LEVEL: debug | info | warn | error (default info)
	MasterKey          []byte        // VIGIL_MASTER_KEY or VIGIL_MASTER_KEY_FILE: base64 of 32 bytes
	WorkerConcurrency  int           // VIGIL_WORKER_CONCURRENCY (default 10)
	AWSPrincipalARN    string        // VIGIL_AWS_PRINCIPAL_ARN: the principal customers' roles trust
	MaxBodyBytes       int64         // VIGIL_MAX_BODY_BYTES (default 1048576)
	SessionTTL         time.Duration // VIGIL_SESSION_TTL (default 12h)
	ShutdownTimeout    time.Duration // VIGIL_SHUTDOWN_TIMEOUT (default 30s)
}

// need says which settings a command requires beyond the always-validated ones.
type need int

const (
	needDatabase need = 1 << iota
	needMasterKey
)

// LoadConfig reads the environment through lookup (os.LookupEnv in production) and
// returns one error listing every problem, so an operator fixes them all in one go.
func LoadConfig(lookup func(string) (string, bool), needs need) (*Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	// secret reads NAME, or the file named by NAME_FILE (Docker/Kubernetes secrets).
	secret := func(name string) string {
		if v := get(name); v != "" {
			return v
		}
		if path := get(name + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				bad("%s_FILE: cannot read %s: %v", name, path, err)
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		return ""
	}
	intVar := func(name string, def, lo, hi int) int {
		v := get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad("%s=%q: want a whole number from %d to %d", name, v, lo, hi)
			return def
		}
		return n
	}
	durVar := func(name string, def, lo time.Duration) time.Duration {
		v := get(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo {
			bad("%s=%q: want a duration such as 30s or 12h, at least %s", name, v, lo)
			return def
		}
		return d
	}

	c := &Config{
		DatabaseRole:      get("VIGIL_DATABASE_ROLE"),
		LogFormat:         strings.ToLower(get("VIGIL_LOG_FORMAT")),
		WorkerConcurrency: intVar("VIGIL_WORKER_CONCURRENCY", 10, 1, 1000),
		MaxBodyBytes:      int64(intVar("VIGIL_MAX_BODY_BYTES", 1<<20, 1024, 100<<20)),
		SessionTTL:        durVar("VIGIL_SESSION_TTL", 12*time.Hour, 5*time.Minute),
		ShutdownTimeout:   durVar("VIGIL_SHUTDOWN_TIMEOUT", 30*time.Second, time.Second),
		DatabaseMaxConns:  int32(intVar("VIGIL_DATABASE_MAX_CONNS", 20, 2, 1000)),
	}

	c.AWSPrincipalARN = get("VIGIL_AWS_PRINCIPAL_ARN")
	if c.AWSPrincipalARN != "" && !strings.HasPrefix(c.AWSPrincipalARN, "arn:aws") {
		bad("VIGIL_AWS_PRINCIPAL_ARN=%q: want an IAM ARN such as arn:aws:iam::123456789012:role/vigil-scanner", c.AWSPrincipalARN)
	}
	c.DatabaseURL = secret("VIGIL_DATABASE_URL")
	c.MigrateDatabaseURL = secret("VIGIL_MIGRATE_DATABASE_URL")
	if needs&needDatabase != 0 && c.DatabaseURL == "" {
		bad("VIGIL_DATABASE_URL is not set: want postgres://user:password@host:5432/vigil")
	}
	for name, v := range map[string]string{"VIGIL_DATABASE_URL": c.DatabaseURL, "VIGIL_MIGRATE_DATABASE_URL": c.MigrateDatabaseURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || (u.Host == "" && !strings.Contains(u.RawQuery, "host=")) {
			bad("%s: want a URL such as postgres://user:password@host:5432/vigil", name)
		}
	}
	if c.MigrateDatabaseURL == "" {
		c.MigrateDatabaseURL = c.DatabaseURL
	}

	addr := func(name, def string) string {
		v := get(name)
		if v == "" {
			return def
		}
		if host, port, err := net.SplitHostPort(v); err != nil {
			bad("%s=%q: want host:port such as %s or 127.0.0.1%s", name, v, def, def)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			bad("%s=%q: port must be a number from 0 to 65535", name, v)
		} else if host != "" && net.ParseIP(host) == nil && host != "localhost" {
			bad("%s=%q: host must be an IP address, localhost or empty", name, v)
		}
		return v
	}
	c.HTTPAddr = addr("VIGIL_HTTP_ADDR", ":8080")
	c.WorkerMetricsAddr = addr("VIGIL_WORKER_METRICS_ADDR", ":9090")

	pub := get("VIGIL_PUBLIC_URL")
	if pub == "" {
		pub = "http://localhost:8080"
	}
	if u, err := url.Parse(pub); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("VIGIL_PUBLIC_URL=%q: want the URL users open, such as https://vigil.example.com", pub)
	} else {
		c.PublicURL = u
	}

	switch c.LogFormat {
	case "":
		c.LogFormat = "json"
	case "json", "text":
	default:
		bad("VIGIL_LOG_FORMAT=%q: want json or text", c.LogFormat)
	}
	switch lv := strings.ToLower(get("VIGIL_LOG_LEVEL")); lv {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("VIGIL_LOG_LEVEL=%q: want debug, info, warn or error", lv)
	}

	if key := secret("VIGIL_MASTER_KEY"); key != "" {
		b, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(b) != 32 {
			bad("VIGIL_MASTER_KEY: want 32 random bytes in base64 (generate one with `openssl rand -base64 32`)")
		} else {
			c.MasterKey = b
		}
	} else if needs&needMasterKey != 0 {
		bad("VIGIL_MASTER_KEY is not set: it encrypts cloud credentials; generate one with `openssl rand -base64 32`")
	}

	if len(problems) > 0 {
		return nil, errors.New("invalid configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

// NewLogger builds the process logger from the configuration.
func (c *Config) NewLogger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
