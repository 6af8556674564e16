package store_test

import "flag"

// benchSizeFlag sets the number of resources in the store benchmarks.
var benchSizeFlag = flag.Int("benchsize", 100000, "resources per benchmark unit")
