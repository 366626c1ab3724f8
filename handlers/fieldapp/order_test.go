package fieldapp

import (
	"slices"
	"testing"

	"github.com/hue-cdt/cdt/domain"
)

// The log form offers the services in serviceOrder: every service, once.
func TestServiceOrderListsEveryService(t *testing.T) {
	got := slices.Sorted(slices.Values(serviceOrder))
	want := slices.Sorted(slices.Values(domain.Services))
	if !slices.Equal(got, want) {
		t.Fatalf("serviceOrder %v, services %v", serviceOrder, domain.Services)
	}
}
