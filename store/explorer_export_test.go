package store

// FindingQueryForTest exposes the explorer's query builder to the benchmark (EXPLAIN).
func FindingQueryForTest(f FindingFilter, sort FindingSort, limit int) (string, []any, error) {
	return findingQuery(f, sort, nil, limit)
}
