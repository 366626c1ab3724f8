package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type tokenBody struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	User         userView `json:"user"`
}

func tokenResponse(t auth.Tokens, u domain.User) tokenBody {
	return tokenBody{AccessToken: t.Access, RefreshToken: t.Refresh, TokenType: "Bearer", ExpiresIn: t.ExpiresIn, User: viewUser(u)}
}

// Login answers POST /auth/login.
func (h *Handlers) Login(c *gin.Context) error {
	var req loginRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	var p domain.Problems
	if req.Username == "" {
		p.Add("username", "required")
	}
	if req.Password == "" {
		p.Add("password", "required")
	}
	if err := p.Err(); err != nil {
		return err
	}
	if err := h.limits.Login(c, h.LoginRate); err != nil {
		return err
	}
	t, u, err := h.Deps.Login(c.Request.Context(), c.ClientIP(), req.Username, req.Password, auth.KindAPI)
	if errors.Is(err, domain.ErrUnauthorized) {
		return httpx.ErrBadLogin
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tokenResponse(t, u))
	return nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Refresh answers POST /auth/refresh: a new pair of tokens; a refresh token
// presented twice ends its session.
func (h *Handlers) Refresh(c *gin.Context) error {
	var req refreshRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return domain.Invalid("refresh_token", "required")
	}
	t, u, err := h.Auth.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		if errors.Is(err, auth.ErrGrace) {
			return domain.ErrTokenReused // the API has no grace period
		}
		return err
	}
	c.JSON(http.StatusOK, tokenResponse(t, u))
	return nil
}

// Logout answers POST /auth/logout: the caller's session ends.
func (h *Handlers) Logout(c *gin.Context) error {
	if err := h.Auth.Logout(c.Request.Context(), httpx.Caller(c).SessionID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

type meBody struct {
	User        userView `json:"user"`
	CommuneCode string   `json:"commune_code,omitempty"`
	TeamID      string   `json:"team_id,omitempty"`
}

// Me answers GET /me: the caller, with their commune and team.
func (h *Handlers) Me(c *gin.Context) error {
	cl := httpx.Caller(c)
	u, err := h.Users.FindUser(c.Request.Context(), cl.Username)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, meBody{User: viewUser(u), CommuneCode: cl.CommuneCode, TeamID: cl.TeamID})
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// ChangePassword answers POST /auth/password: a login changes its own
// password; every session of the login ends.
func (h *Handlers) ChangePassword(c *gin.Context) error {
	var req passwordRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	cl := httpx.Caller(c)
	if err := h.Auth.CheckPassword(c.Request.Context(), cl.Username, req.CurrentPassword); err != nil {
		if errors.Is(err, domain.ErrUnauthorized) {
			return domain.Invalid("current_password", "wrong_password")
		}
		return err
	}
	if err := h.SetPassword(c.Request.Context(), cl.Username, req.NewPassword, "new_password"); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
