package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

type userRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
	UnitCode string `json:"unit_code"`
	MemberID string `json:"member_id"`
}

// CreateUser answers POST /users: a login of a unit the caller manages (403
// for another).
func (h *Handlers) CreateUser(c *gin.Context) error {
	var req userRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	u, err := h.NewUser(c.Request.Context(), httpx.Scope(c), domain.NewUser(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewUser(u))
	return nil
}

// ListUsers answers GET /users?unit=&member=&role=: admins see all, commune
// leaders their commune's logins (403 for another unit).
func (h *Handlers) ListUsers(c *gin.Context) error {
	f, err := httpx.Scope(c).Users(domain.UserFilter{UnitCode: c.Query("unit"), MemberID: c.Query("member"), Role: domain.Role(c.Query("role"))})
	if err != nil {
		return err
	}
	users, err := h.Users.FindUsers(c.Request.Context(), f)
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

// UpdateUser answers PATCH /users/{username}: enable, disable, reset a
// password, of a login the caller manages (404 for another). Disabling a login
// or resetting its password ends its sessions.
func (h *Handlers) UpdateUser(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	u, err := h.Users.FindUser(ctx, domain.NormalizeUsername(c.Param("username")))
	if err != nil {
		return err
	}
	if err := sc.ManageLogin(u); err != nil {
		return err
	}
	var req userPatchRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	if req.Password != nil {
		if err := h.SetPassword(ctx, u.Username, *req.Password, "password"); err != nil {
			return err
		}
	}
	if req.Active != nil {
		if err := h.SetActive(ctx, sc, u, *req.Active); err != nil {
			return err
		}
	}
	if u, err = h.Users.FindUser(ctx, u.Username); err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewUser(u))
	return nil
}

// UnlockUser answers POST /users/{username}/unlock: the sign-ins held back
// on a login the caller manages are released (404 for another).
func (h *Handlers) UnlockUser(c *gin.Context) error {
	u, err := h.Unlock(c.Request.Context(), httpx.Scope(c), c.Param("username"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewUser(u))
	return nil
}
