package httpx

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/i18n"
)

// CookieLang is the cookie holding the pages' language.
const CookieLang = "cdt_lang"

// PageLang is the language of the pages: the cdt_lang cookie, Vietnamese by default.
func PageLang(c *gin.Context) string {
	if v, err := c.Cookie(CookieLang); err == nil {
		return i18n.Normalize(v)
	}
	return i18n.VI
}

// APILang is the language of an API answer: Vietnamese when Accept-Language
// asks for it, English otherwise. The pages' own JSON calls (/app/api/…)
// answer in the page language.
func APILang(c *gin.Context) string {
	if strings.HasPrefix(c.Request.URL.Path, "/app/api/") {
		return PageLang(c)
	}
	return i18n.FromAcceptLanguage(c.GetHeader("Accept-Language"))
}
