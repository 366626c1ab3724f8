package openapi_test

import (
	"testing"

	"github.com/hue-cdt/cdt/handlers/openapi"
)

func TestDocumentBuilds(t *testing.T) {
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(doc.Paths.Len())
}
