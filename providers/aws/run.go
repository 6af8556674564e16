package aws

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil/providers"
)

// UnitResult is the outcome of one unit run by CollectAll.
type UnitResult struct {
	Unit providers.Unit
	// Resources counts the documents the unit emitted.
	Resources int
	// Gaps counts the enrichment gaps on those documents.
	Gaps     int
	Duration time.Duration
	// Err is nil when the unit completed; otherwise a *providers.CloudError (list call
	// failed: access denied, throttled past retries, ...) wrapped with the unit.
	Err error
}

// Kind is the classified failure of the unit, or "" when it completed.
func (r UnitResult) Kind() providers.ErrorKind {
	if r.Err == nil {
		return ""
	}
	return providers.KindOf(r.Err)
}

// CollectAll plans and runs every unit of p with at most Config.Concurrency units at
// once, and returns one result per unit in plan order. emit is never called
// concurrently. A unit's failure is recorded in its result and does not stop the
// others; CollectAll itself returns an error only when ctx ends or emit fails.
func CollectAll(ctx context.Context, p *Provider, emit providers.EmitFunc) ([]UnitResult, error) {
	units, err := p.Plan(ctx)
	if err != nil {
		return nil, err
	}
	results := make([]UnitResult, len(units))
	var mu sync.Mutex
	errEmit := errors.New("emit failed")
	var emitErr error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.conc)
	for i, u := range units {
		g.Go(func() error {
			res := UnitResult{Unit: u}
			start := time.Now()
			err := p.Collect(gctx, u, func(ctx context.Context, r providers.Resource) error {
				mu.Lock()
				defer mu.Unlock()
				if err := emit(ctx, r); err != nil {
					emitErr = err
					return errEmit
				}
				res.Resources++
				res.Gaps += len(r.Gaps)
				return nil
			})
			res.Duration = time.Since(start)
			res.Err = err
			results[i] = res
			p.log.Debug("unit done", "unit", u.String(), "resources", res.Resources, "gaps", res.Gaps, "duration", res.Duration, "error", err)
			if errors.Is(err, errEmit) {
				return emitErr
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return results, err
	}
	return results, ctx.Err()
}
