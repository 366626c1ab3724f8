package domain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// TrainingTopics are the topics of the training catalogue: the service codes
// plus cyber safety and team operations (API.md).
var TrainingTopics = append(append([]string(nil), Services...), "cyber_safety", "team_operations")

// Training levels.
const (
	LevelProvinceTraining = "province"
	LevelCommuneTraining  = "commune"
)

// Training is a course: who organised it, when, where, on what; and who came.
type Training struct {
	ID             string
	Title          string
	Topics         []string
	Level          string // province or commune
	UnitCode       string // the province, or the commune that organised it
	OrganizingUnit string // e.g. "Sở Khoa học và Công nghệ", "UBND phường Phú Xuân"
	StartsAt       time.Time
	EndsAt         time.Time
	Location       string
	Trainer        string
	MaterialsURL   string
	Attendees      []Attendance
	Version        int64
	CreatedAt      time.Time
	CreatedBy      string
}

// Attendance is one member present at a training.
type Attendance struct {
	MemberID string
	Commune  string
	TeamID   string
	MarkedAt time.Time
	By       string
	Source   string // list or sheet
}

// NewTraining is the input that creates a training.
type NewTraining struct {
	Title          string   `json:"title"`
	Topics         []string `json:"topics"`
	UnitCode       string   `json:"unit_code"`
	OrganizingUnit string   `json:"organizing_unit"`
	StartsAt       string   `json:"starts_at"`
	EndsAt         string   `json:"ends_at"`
	Location       string   `json:"location"`
	Trainer        string   `json:"trainer"`
	MaterialsURL   string   `json:"materials_url"`
}

// ValidateTraining checks in and returns the training (without ID and level).
func ValidateTraining(in NewTraining, now time.Time) (Training, error) {
	var p Problems
	t := Training{Title: CleanText(in.Title), UnitCode: strings.TrimSpace(in.UnitCode), OrganizingUnit: CleanText(in.OrganizingUnit),
		Location: CleanText(in.Location), Trainer: CleanText(in.Trainer), MaterialsURL: strings.TrimSpace(in.MaterialsURL)}
	checkName(&p, "title", t.Title)
	if len(in.Topics) == 0 {
		p.Add("topics", "required")
	}
	seen := map[string]bool{}
	for _, tp := range in.Topics {
		if !contains(TrainingTopics, tp) {
			p.Add("topics", "one_of", strings.Join(TrainingTopics, ", "))
			break
		}
		if !seen[tp] {
			seen[tp] = true
			t.Topics = append(t.Topics, tp)
		}
	}
	sort.Strings(t.Topics)
	if t.UnitCode == "" {
		p.Add("unit_code", "required")
	}
	parse := func(field, v string) time.Time {
		if v == "" {
			p.Add(field, "required")
			return time.Time{}
		}
		if tm, err := time.Parse(time.RFC3339, v); err == nil {
			return tm.UTC()
		}
		if d, ok := ParseDate(v); ok {
			return d.Time().UTC()
		}
		p.Add(field, "datetime")
		return time.Time{}
	}
	t.StartsAt, t.EndsAt = parse("starts_at", in.StartsAt), parse("ends_at", in.EndsAt)
	if !p.Has("starts_at") && !p.Has("ends_at") {
		switch {
		case t.EndsAt.Before(t.StartsAt):
			p.Add("ends_at", "before_start")
		case t.EndsAt.Sub(t.StartsAt) > 31*24*time.Hour:
			p.Add("ends_at", "too_long_course")
		case t.StartsAt.Before(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)) || t.StartsAt.After(now.AddDate(2, 0, 0)):
			p.Add("starts_at", "date_range", "2021–"+fmt.Sprint(now.Year()+2))
		}
	}
	for field, v := range map[string]string{"location": t.Location, "trainer": t.Trainer, "organizing_unit": t.OrganizingUnit} {
		if utf8.RuneCountInString(v) > MaxNameLen {
			p.Add(field, "too_long", MaxNameLen)
		}
	}
	if t.MaterialsURL != "" {
		u, err := url.Parse(t.MaterialsURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(t.MaterialsURL) > 500 {
			p.Add("materials_url", "url")
		}
	}
	return t, p.Err()
}

// Attend marks members present; members already present are left as they
// are. It returns how many were newly marked.
func (t *Training) Attend(members []Member, by, source string, now time.Time) int {
	present := map[string]bool{}
	for _, a := range t.Attendees {
		present[a.MemberID] = true
	}
	n := 0
	for _, m := range members {
		if present[m.ID] {
			continue
		}
		present[m.ID] = true
		t.Attendees = append(t.Attendees, Attendance{MemberID: m.ID, Commune: m.CommuneCode, TeamID: m.TeamID,
			MarkedAt: now.UTC(), By: by, Source: source})
		n++
	}
	return n
}

// Unattend removes a member marked by mistake; it reports whether they were there.
func (t *Training) Unattend(memberID string) bool {
	for i, a := range t.Attendees {
		if a.MemberID == memberID {
			t.Attendees = append(t.Attendees[:i], t.Attendees[i+1:]...)
			return true
		}
	}
	return false
}

// TrainingStore persists trainings.
type TrainingStore interface {
	CreateTraining(ctx context.Context, t *Training) error
	Training(ctx context.Context, id string) (Training, error) // ErrNotFound
	Trainings(ctx context.Context) ([]Training, error)         // all, newest first (cached briefly)
	// UpdateTraining applies fn to a private copy and saves it atomically,
	// calling fn again if another writer changed it meanwhile.
	UpdateTraining(ctx context.Context, id string, fn func(*Training) error) (Training, error)
	// InsertTrainings writes generated trainings in bulk (seed data).
	InsertTrainings(ctx context.Context, ts []Training) error
}

// TrainedMembers returns, per member, the topics they were trained on (a
// member with an empty set attended a training without topics).
func TrainedMembers(ts []Training) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, t := range ts {
		for _, a := range t.Attendees {
			set := out[a.MemberID]
			if set == nil {
				set = map[string]bool{}
				out[a.MemberID] = set
			}
			for _, tp := range t.Topics {
				set[tp] = true
			}
		}
	}
	return out
}

// Progress is the training progress of a unit (API.md's report).
type Progress struct {
	TeamsTotal, TeamsTrained, MembersTotal, MembersTrained int
	ByTopic                                                map[string]int
	ByCommune                                              []CommuneProgress
}

// CommuneProgress is one commune's line of a progress report.
type CommuneProgress struct {
	CommuneCode                                            string
	TeamsTotal, TeamsTrained, MembersTotal, MembersTrained int
}

// ComputeProgress follows API.md: a team is trained when at least one of its
// active members attended a training; members_trained and by_topic count
// active members.
func ComputeProgress(regs []*CommuneRegistry, trained map[string]map[string]bool) Progress {
	p := Progress{ByTopic: map[string]int{}}
	for _, reg := range regs {
		cp := CommuneProgress{CommuneCode: reg.Code}
		teamTrained := map[string]bool{}
		for _, m := range reg.Members {
			if !m.Active {
				continue
			}
			cp.MembersTotal++
			topics, ok := trained[m.ID]
			if !ok {
				continue
			}
			cp.MembersTrained++
			teamTrained[m.TeamID] = true
			for tp := range topics {
				p.ByTopic[tp]++
			}
		}
		for _, t := range reg.Teams {
			if t.Active {
				cp.TeamsTotal++
				if teamTrained[t.ID] {
					cp.TeamsTrained++
				}
			}
		}
		p.TeamsTotal += cp.TeamsTotal
		p.TeamsTrained += cp.TeamsTrained
		p.MembersTotal += cp.MembersTotal
		p.MembersTrained += cp.MembersTrained
		p.ByCommune = append(p.ByCommune, cp)
	}
	sort.Slice(p.ByCommune, func(i, j int) bool { return p.ByCommune[i].CommuneCode < p.ByCommune[j].CommuneCode })
	return p
}

// NewTrainingID returns a new training ID: TR, the day it was created in Huế,
// and six random hex digits (TR20261121-a1b2c3).
func NewTrainingID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "TR" + now.In(Location).Format("20060102") + "-" + hex.EncodeToString(b)
}

// Untrained lists the active members of regs who attended no training, by ID.
func Untrained(regs []*CommuneRegistry, trained map[string]map[string]bool) []Member {
	var out []Member
	for _, reg := range regs {
		for _, m := range reg.Members {
			if _, ok := trained[m.ID]; m.Active && !ok {
				out = append(out, m)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// MonthShare is the share of teams trained by the end of one month.
type MonthShare struct {
	Month time.Time // the last day of the month, in Huế
	Share float64   // 0–1
}

// TrainedByMonth is the share of today's active teams of regs that were
// trained (an active member of theirs attended a training that had ended) by
// the end of each of the last months months up to now's, oldest first. It is
// empty when regs hold no active team.
func TrainedByMonth(regs []*CommuneRegistry, ts []Training, now time.Time, months int) []MonthShare {
	teamOf := map[string]string{}
	total := 0
	for _, reg := range regs {
		for _, m := range reg.Members {
			if m.Active {
				teamOf[m.ID] = m.TeamID
			}
		}
		for _, t := range reg.Teams {
			if t.Active {
				total++
			}
		}
	}
	if total == 0 {
		return nil
	}
	firstTrained := map[string]time.Time{} // team → end of its first training
	for _, t := range ts {
		for _, a := range t.Attendees {
			team, ok := teamOf[a.MemberID]
			if !ok {
				continue
			}
			if f, seen := firstTrained[team]; !seen || t.EndsAt.Before(f) {
				firstTrained[team] = t.EndsAt
			}
		}
	}
	now = now.In(Location)
	out := make([]MonthShare, 0, months)
	for i := months - 1; i >= 0; i-- {
		end := time.Date(now.Year(), now.Month()-time.Month(i)+1, 1, 0, 0, 0, 0, Location)
		n := 0
		for _, f := range firstTrained {
			if f.Before(end) {
				n++
			}
		}
		out = append(out, MonthShare{Month: end.AddDate(0, 0, -1), Share: float64(n) / float64(total)})
	}
	return out
}
