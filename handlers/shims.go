package handlers

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
)

// The pages still in this package reach core through these until they move.

type sheetResult = core.SheetResult

func (s *Server) today() domain.Date                             { return s.d.Today() }
func (s *Server) currentCommune(code string) (domain.Unit, bool) { return s.d.Commune(code) }
func (s *Server) currentCommuneCodes() []string                  { return s.d.CommuneCodes() }
func (s *Server) team(c *gin.Context, id string) (*domain.CommuneRegistry, domain.TeamView, error) {
	return s.d.Team(c.Request.Context(), scope(c), id)
}
func (s *Server) member(c *gin.Context, id string) (domain.Member, error) {
	return s.d.Member(c.Request.Context(), scope(c), id)
}
func (s *Server) newUser(ctx context.Context, sc domain.Scope, in domain.NewUser) (domain.User, error) {
	return s.d.NewUser(ctx, sc, in)
}
func (s *Server) setPassword(c *gin.Context, username, pw, field string) error {
	return s.d.SetPassword(c.Request.Context(), username, pw, field)
}
func (s *Server) allowLogin(c *gin.Context, username string) error {
	return s.limiter.Login(c, username, s.d.LoginRate)
}
func (s *Server) training(c *gin.Context, id string) (domain.Training, error) {
	return s.d.Training(c.Request.Context(), scope(c), id)
}
func (s *Server) attend(ctx context.Context, sc domain.Scope, training string, ids []string, source string) (int, error) {
	return s.d.Attend(ctx, sc, training, ids, source)
}
func (s *Server) sheet(ctx context.Context, sc domain.Scope, l *i18n.Localizer, t domain.Training, name string, data []byte, dry bool) (sheetResult, error) {
	return s.d.Sheet(ctx, sc, l, t, name, data, dry)
}
func (s *Server) progressScope(sc domain.Scope, unit string) ([]string, error) {
	return s.d.ReportCommunes(sc, unit)
}
func (s *Server) progress(ctx context.Context, communes []string) (domain.Progress, []*domain.CommuneRegistry, map[string]map[string]bool, error) {
	return s.d.Progress(ctx, communes)
}
func (s *Server) createTraining(ctx context.Context, sc domain.Scope, in domain.NewTraining) (domain.Training, error) {
	return s.d.CreateTraining(ctx, sc, in)
}
func (s *Server) findRecords(c *gin.Context, f domain.RecordFilter) ([]domain.Record, string, error) {
	return s.d.FindRecords(c.Request.Context(), f)
}
func trainingVisible(sc domain.Scope, t domain.Training) bool { return sc.ReadTraining(t) == nil }
func uploadedFile(c *gin.Context) (string, []byte, error)     { return httpx.UploadedFile(c) }
