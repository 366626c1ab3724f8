package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
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

// allowLogin rate-limits login attempts per client address and per username.
func (s *Server) allowLogin(c *gin.Context, username string) error {
	per := rate.Limit(float64(s.d.LoginRate) / 60)
	if !s.limiter.allow("login-ip:"+c.ClientIP(), per*3, s.d.LoginRate*3) ||
		!s.limiter.allow("login-user:"+domain.NormalizeUsername(username), per, s.d.LoginRate) {
		return domain.ErrRateLimited
	}
	return nil
}

func (s *Server) login(c *gin.Context) error {
	var req loginRequest
	if err := decode(c, &req, maxBody); err != nil {
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
	if err := s.allowLogin(c, req.Username); err != nil {
		return err
	}
	t, u, err := s.d.Auth.Login(c.Request.Context(), req.Username, req.Password, auth.KindAPI)
	if errors.Is(err, domain.ErrUnauthorized) {
		return errBadLogin
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

func (s *Server) refresh(c *gin.Context) error {
	var req refreshRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return domain.Invalid("refresh_token", "required")
	}
	t, u, err := s.d.Auth.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		if errors.Is(err, auth.ErrGrace) {
			return domain.ErrTokenReused // the API has no grace period
		}
		return err
	}
	c.JSON(http.StatusOK, tokenResponse(t, u))
	return nil
}

func (s *Server) logout(c *gin.Context) error {
	if err := s.d.Auth.Logout(c.Request.Context(), caller(c).SessionID); err != nil {
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

func (s *Server) me(c *gin.Context) error {
	cl := caller(c)
	u, err := s.d.Users.FindUser(c.Request.Context(), cl.Username)
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

// changePassword lets a login change its own password; every other session of
// the login ends.
func (s *Server) changePassword(c *gin.Context) error {
	var req passwordRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	cl := caller(c)
	if err := s.d.Auth.CheckPassword(c.Request.Context(), cl.Username, req.CurrentPassword); err != nil {
		if errors.Is(err, domain.ErrUnauthorized) {
			return domain.Invalid("current_password", "wrong_password")
		}
		return err
	}
	if err := s.setPassword(c, cl.Username, req.NewPassword, "new_password"); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
