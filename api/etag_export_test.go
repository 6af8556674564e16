package api

// Exported for the tests of package api_test.
var (
	ETagRoutes        = etagRoutes
	IdempotentRoutes  = idempotentRoutes
	ETagOf            = etagOf
	EntityTagsMatch   = matchFound
	NoneMatchFails    = noneMatchFails
	IdempotencyKeyFor = parseIdempotencyKey
)
