package handlers

import (
	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

func caller(c *gin.Context) domain.Caller { return httpx.Caller(c) }

func scope(c *gin.Context) domain.Scope { return httpx.Scope(c) }
