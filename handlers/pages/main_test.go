package pages_test

import (
	"testing"

	"github.com/hue-cdt/cdt/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
