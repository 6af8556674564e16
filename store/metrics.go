package store

import (
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exposes pgxpool statistics as Prometheus gauges and counters.
type poolCollector struct {
	db                                        *DB
	total, idle, acquired, maxConns, acquires *prometheus.Desc
	waitSeconds, emptyAcquires                *prometheus.Desc
}

// Collector returns a Prometheus collector of the pool's statistics.
func (db *DB) Collector() prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("vigil_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		db:            db,
		total:         d("connections", "Open connections."),
		idle:          d("idle_connections", "Idle connections."),
		acquired:      d("acquired_connections", "Connections in use."),
		maxConns:      d("max_connections", "Configured maximum connections."),
		acquires:      d("acquires_total", "Connections acquired from the pool."),
		waitSeconds:   d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		emptyAcquires: d("empty_acquires_total", "Acquires that had to wait because the pool was empty."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.maxConns, c.acquires, c.waitSeconds, c.emptyAcquires} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.maxConns, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}
