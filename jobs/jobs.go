// Package jobs owns Vigil's background work on River: job arguments, workers and
// periodic schedules. Jobs coordinate: they read and write through store and call
// providers and checks; they hold no business logic of their own. Job kinds are
// snake_case and never renamed (queued jobs refer to them by name).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/vigilsec/vigil/store"
)

// Config configures the River client. Zero values take the defaults noted.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	// Concurrency is the number of jobs worked at once by this process (default 10).
	Concurrency int
	// Registry receives job metrics (optional).
	Registry prometheus.Registerer
	// InsertOnly builds a client that inserts jobs but works none (the API process
	// without --with-worker).
	InsertOnly bool
	// Pipeline is what the scan jobs need (required unless InsertOnly).
	Pipeline *Pipeline
	// FetchPollInterval is how often River polls for jobs when no notification arrives
	// (River's default, 1s, when zero; tests shorten it).
	FetchPollInterval time.Duration
}

// Client wraps the River client with Vigil's workers and periodic jobs.
type Client struct {
	River   *river.Client[pgx.Tx]
	metrics *jobMetrics
	logger  *slog.Logger
}

// NewClient builds the River client. The list of workers and periodic jobs is here,
// explicit, and nowhere else.
func NewClient(cfg Config) (*Client, error) {
	if cfg.DB == nil || cfg.Logger == nil {
		return nil, errors.New("jobs: DB and Logger are required")
	}
	rc := &river.Config{Logger: cfg.Logger, FetchPollInterval: cfg.FetchPollInterval}
	if cfg.FetchPollInterval > 0 && cfg.FetchPollInterval < 100*time.Millisecond {
		rc.FetchCooldown = cfg.FetchPollInterval
	}
	if !cfg.InsertOnly {
		p := cfg.Pipeline
		if p == nil || p.NewProvider == nil || p.Checks == nil {
			return nil, errors.New("jobs: a working client needs a Pipeline with NewProvider and Checks")
		}
		if p.Logger == nil {
			p.Logger = cfg.Logger
		}
		if p.DB == nil {
			p.DB = cfg.DB
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, &SweepSessionsWorker{DB: cfg.DB})
		river.AddWorker(workers, &ScheduleScansWorker{Pipeline: p})
		river.AddWorker(workers, &ScanAccountWorker{Pipeline: p})
		river.AddWorker(workers, &CollectUnitWorker{Pipeline: p})
		river.AddWorker(workers, &EvaluateScanWorker{Pipeline: p})
		river.AddWorker(workers, &PruneHistoryWorker{Pipeline: p})
		river.AddWorker(workers, &RemuteWorker{Pipeline: p})

		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(cfg.Concurrency, 1)}}
		every := func(d time.Duration, args river.JobArgs, onStart bool) *river.PeriodicJob {
			return river.NewPeriodicJob(river.PeriodicInterval(d),
				func() (river.JobArgs, *river.InsertOpts) { return args, nil },
				&river.PeriodicJobOpts{RunOnStart: onStart})
		}
		rc.PeriodicJobs = []*river.PeriodicJob{
			every(time.Minute, ScheduleScansArgs{}, true),
			every(time.Minute, RemuteArgs{}, false),
			every(time.Hour, SweepSessionsArgs{}, true),
			every(24*time.Hour, PruneHistoryArgs{}, true),
		}
	}
	rcl, err := river.NewClient(riverpgxv5.New(cfg.DB.Pool), rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	c := &Client{River: rcl, logger: cfg.Logger}
	if cfg.Registry != nil && !cfg.InsertOnly {
		c.metrics = newJobMetrics(cfg.Registry)
	}
	return c, nil
}

// Start starts working jobs (and, on the elected leader, periodic jobs).
func (c *Client) Start(ctx context.Context) error {
	if c.metrics != nil {
		c.metrics.subscribe(c.River)
	}
	if err := c.River.Start(ctx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish, up to ctx's deadline, then cancels them.
func (c *Client) Stop(ctx context.Context) error {
	err := c.River.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		c.logger.Warn("jobs did not finish in time; cancelling them")
		hardCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = c.River.StopAndCancel(hardCtx)
	}
	if err != nil {
		return fmt.Errorf("stop river: %w", err)
	}
	return nil
}
