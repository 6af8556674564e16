package jobs_test

import (
	"testing"

	"github.com/vigilsec/vigil/providers/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }
