package jobs

import (
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
)

// jobMetrics counts finished jobs by kind and outcome and times their runs, fed from
// River's event stream so no worker has to remember to record anything.
type jobMetrics struct {
	finished *prometheus.CounterVec
	duration *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

func newJobMetrics(reg prometheus.Registerer) *jobMetrics {
	m := &jobMetrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vigil", Subsystem: "jobs", Name: "finished_total",
			Help: "Jobs finished by kind and outcome (completed, failed, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "vigil", Subsystem: "jobs", Name: "run_duration_seconds",
			Help:    "Job run time by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 12),
		}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "vigil", Subsystem: "jobs", Name: "queue_wait_seconds",
			Help:    "Time from a job being available to it being worked.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 12),
		}, []string{"kind"}),
	}
	reg.MustRegister(m.finished, m.duration, m.wait)
	return m
}

var outcomes = map[river.EventKind]string{
	river.EventKindJobCompleted: "completed",
	river.EventKindJobFailed:    "failed",
	river.EventKindJobCancelled: "cancelled",
	river.EventKindJobSnoozed:   "snoozed",
}

func (m *jobMetrics) subscribe(c *river.Client[pgx.Tx]) {
	events, _ := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	go func() {
		// The channel closes when the client stops.
		for ev := range events {
			if ev.Job == nil {
				continue
			}
			m.finished.WithLabelValues(ev.Job.Kind, outcomes[ev.Kind]).Inc()
			if ev.JobStats != nil {
				m.duration.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.RunDuration.Seconds())
				m.wait.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.QueueWaitDuration.Seconds())
			}
		}
	}()
}
