package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/seal"
	"github.com/vigilsec/vigil/store"
)

func newServeCmd() *cobra.Command {
	var withWorker bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the REST API and the web UI",
		Long: "Serve the REST API and web UI on VIGIL_HTTP_ADDR. With --with-worker the same\n" +
			"process also works background jobs (scans, evaluations, notifications), which is\n" +
			"what `make demo` and small installations use.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), withWorker)
		},
	}
	cmd.Flags().BoolVar(&withWorker, "with-worker", false, "also run the background workers in this process")
	return cmd
}

func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Work background jobs and periodic schedules (no HTTP API)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context())
		},
	}
}

// runtimeParts are what serve and worker share: configuration, logger, database,
// metrics registry.
type runtimeParts struct {
	cfg      *Config
	logger   *slog.Logger
	db       *store.DB
	registry *prometheus.Registry
}

func openRuntime(ctx context.Context) (*runtimeParts, error) {
	cfg, err := LoadConfig(lookupEnv, needDatabase|needMasterKey)
	if err != nil {
		return nil, err
	}
	logger := cfg.NewLogger()
	db, err := store.Open(ctx, cfg.DatabaseURL, store.PoolConfig{MaxConns: cfg.DatabaseMaxConns, Role: cfg.DatabaseRole})
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), db.Collector())
	return &runtimeParts{cfg: cfg, logger: logger, db: db, registry: reg}, nil
}

// jobsClient builds the River client; a working one gets the scan pipeline.
func (rt *runtimeParts) jobsClient(insertOnly bool) (*jobs.Client, error) {
	cfg := jobs.Config{DB: rt.db, Logger: rt.logger, Concurrency: rt.cfg.WorkerConcurrency, Registry: rt.registry, InsertOnly: insertOnly}
	if !insertOnly {
		reg, err := builtin.Registry()
		if err != nil {
			return nil, err
		}
		sealer, err := seal.New(rt.cfg.MasterKey)
		if err != nil {
			return nil, err
		}
		cfg.Pipeline = &jobs.Pipeline{DB: rt.db, Sealer: sealer, NewProvider: demo.Providers(jobs.CloudProviders(rt.logger)), Checks: reg, Logger: rt.logger}
	}
	return jobs.NewClient(cfg)
}

func runServe(ctx context.Context, withWorker bool) error {
	rt, err := openRuntime(ctx)
	if err != nil {
		return err
	}
	defer rt.db.Close()

	jc, err := rt.jobsClient(!withWorker)
	if err != nil {
		return err
	}
	reg, err := builtin.Registry()
	if err != nil {
		return err
	}
	sealer, err := seal.New(rt.cfg.MasterKey)
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{Addr: rt.cfg.HTTPAddr, MaxBodyBytes: rt.cfg.MaxBodyBytes, DB: rt.db,
		Logger: rt.logger, Registry: rt.registry, Version: version,
		SecureCookies: rt.cfg.PublicURL.Scheme == "https", SessionTTL: rt.cfg.SessionTTL,
		Checks: reg, Jobs: jc.River, Sealer: sealer, ExternalIDKey: rt.cfg.MasterKey,
		VigilAWSPrincipal: rt.cfg.AWSPrincipalARN, TestAccount: jobs.TestConnection})
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	if withWorker {
		if err := jc.Start(gctx); err != nil {
			return err
		}
		rt.logger.Info("workers started", "concurrency", rt.cfg.WorkerConcurrency)
	}
	g.Go(func() error { return srv.Run(gctx, rt.cfg.ShutdownTimeout) })
	err = g.Wait()
	if withWorker {
		stopCtx, cancel := context.WithTimeout(context.Background(), rt.cfg.ShutdownTimeout)
		defer cancel()
		if serr := jc.Stop(stopCtx); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	rt.logger.Info("stopped")
	return err
}

func runWorker(ctx context.Context) error {
	rt, err := openRuntime(ctx)
	if err != nil {
		return err
	}
	defer rt.db.Close()
	jc, err := rt.jobsClient(false)
	if err != nil {
		return err
	}
	if err := jc.Start(ctx); err != nil {
		return err
	}
	rt.logger.Info("worker started", "concurrency", rt.cfg.WorkerConcurrency)
	// The worker serves only its health and metrics.
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(rt.registry, promhttp.HandlerOpts{Registry: rt.registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	msrv := &http.Server{Addr: rt.cfg.WorkerMetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := msrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rt.logger.Error("worker metrics server", "addr", rt.cfg.WorkerMetricsAddr, "error", err.Error())
		}
	}()
	<-ctx.Done()
	_ = msrv.Close()
	rt.logger.Info("worker stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), rt.cfg.ShutdownTimeout)
	defer cancel()
	if err := jc.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop worker: %w", err)
	}
	return nil
}
