package handlers

import (
	"context"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

type userRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
	UnitCode string `json:"unit_code"`
	MemberID string `json:"member_id"`
}

// createUser answers POST /users.
func (s *Server) createUser(c *gin.Context) error {
	var req userRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	u, err := s.newUser(c.Request.Context(), scope(c), domain.NewUser(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewUser(u))
	return nil
}

// newUser validates a login against the registry and the caller's scope, and
// creates it. Pages and the API share it.
func (s *Server) newUser(ctx context.Context, sc domain.Scope, in domain.NewUser) (domain.User, error) {
	in.Username = domain.NormalizeUsername(in.Username)
	if err := domain.ValidateNewUser(in); err != nil {
		return domain.User{}, err
	}
	role := domain.Role(in.Role)
	commune, err := domain.LoginCommune(ctx, s.d.Units, s.d.Registry, role, in.UnitCode, in.MemberID, s.today())
	if err != nil {
		return domain.User{}, err
	}
	if err := sc.CreateLogin(role, commune); err != nil {
		return domain.User{}, err
	}
	if in.MemberID != "" {
		existing, err := s.d.Users.FindUsers(ctx, domain.UserFilter{MemberID: in.MemberID})
		if err != nil {
			return domain.User{}, err
		}
		for _, e := range existing {
			if e.Active {
				return domain.User{}, domain.Invalid("member_id", "duplicate", e.Username)
			}
		}
	}
	hash, err := s.d.Auth.HashPassword(in.Password)
	if err != nil {
		return domain.User{}, err
	}
	now := s.d.Now()
	u := domain.User{Username: in.Username, PasswordHash: hash, Role: role, UnitCode: in.UnitCode, MemberID: in.MemberID,
		Active: true, CreatedAt: now, UpdatedAt: now, CreatedBy: sc.Caller.Username}
	if err := s.d.Users.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return domain.User{}, domain.Invalid("username", "duplicate")
		}
		return domain.User{}, err
	}
	return u, nil
}

// listUsers answers GET /users?unit=&member=: admins see all, commune leaders
// their commune's logins.
func (s *Server) listUsers(c *gin.Context) error {
	sc := scope(c)
	f := domain.UserFilter{UnitCode: c.Query("unit"), MemberID: c.Query("member"), Role: domain.Role(c.Query("role"))}
	switch {
	case sc.Admin():
	case sc.Caller.Role == domain.RoleCommuneLeader:
		if f.UnitCode != "" && f.UnitCode != sc.Caller.CommuneCode {
			return domain.ErrForbidden
		}
		f.UnitCode = sc.Caller.CommuneCode
	default:
		return domain.ErrForbidden
	}
	users, err := s.d.Users.FindUsers(c.Request.Context(), f)
	if err != nil {
		return err
	}
	items := make([]userView, len(users))
	for i, u := range users {
		items[i] = viewUser(u)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
	return nil
}

type userPatchRequest struct {
	Active   *bool   `json:"active"`
	Password *string `json:"password"`
}

// updateUser answers PATCH /users/{username}: enable, disable, reset password.
// Disabling a login or resetting its password ends its sessions.
func (s *Server) updateUser(c *gin.Context) error {
	ctx := c.Request.Context()
	u, err := s.d.Users.FindUser(ctx, domain.NormalizeUsername(c.Param("username")))
	if err != nil {
		return err
	}
	sc := scope(c)
	if !sc.Admin() && !(sc.Caller.Role == domain.RoleCommuneLeader && u.UnitCode == sc.Caller.CommuneCode) {
		return domain.ErrNotFound
	}
	if u.Role == domain.RoleProvinceAdmin && !sc.Admin() {
		return domain.ErrForbidden
	}
	var req userPatchRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	if req.Password != nil {
		if err := s.setPassword(c, u.Username, *req.Password, "password"); err != nil {
			return err
		}
	}
	if req.Active != nil {
		if u.Username == sc.Caller.Username && !*req.Active {
			return domain.Invalid("active", "not_allowed")
		}
		if err := s.d.Users.SetUserActive(ctx, u.Username, *req.Active, s.d.Now()); err != nil {
			return err
		}
		if !*req.Active {
			if err := s.d.Auth.Sessions.RevokeUserSessions(ctx, u.Username, "disabled", s.d.Now()); err != nil {
				return err
			}
		}
	}
	u, err = s.d.Users.FindUser(ctx, u.Username)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewUser(u))
	return nil
}

// setPassword validates and stores a new password, ending the login's sessions.
func (s *Server) setPassword(c *gin.Context, username, pw, field string) error {
	if n := utf8.RuneCountInString(pw); n < domain.MinPasswordLen {
		return domain.Invalid(field, "too_short", domain.MinPasswordLen)
	}
	if len(pw) > domain.MaxPasswordLen {
		return domain.Invalid(field, "too_long", domain.MaxPasswordLen)
	}
	hash, err := s.d.Auth.HashPassword(pw)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := s.d.Users.UpdatePassword(ctx, username, hash, s.d.Now()); err != nil {
		return err
	}
	return s.d.Auth.Sessions.RevokeUserSessions(ctx, username, "password", s.d.Now())
}
