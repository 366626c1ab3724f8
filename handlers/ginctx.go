package handlers

import (
	"context"
	"encoding/json"
	"html/template"

	"github.com/gin-gonic/gin"
)

type ginKey struct{}

func contextWithGin(ctx context.Context, c *gin.Context) context.Context {
	return context.WithValue(ctx, ginKey{}, c)
}

// jsonAttr encodes v for a data- attribute or a script block.
func jsonAttr(v any) template.JS {
	b, _ := json.Marshal(v)
	return template.JS(b)
}
