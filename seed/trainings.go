package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// HueTrainedShare is the share of teams trained in the province's count: 866
// of 1,100.
const HueTrainedShare = 866.0 / 1100.0

// provinceCourses are the city's courses of the demo, with their topics.
var provinceCourses = []struct {
	title  string
	day    string
	topics []string
}{
	{"Tập huấn kỹ năng cho Tổ công nghệ số cộng đồng (đợt 1)", "2025-08-20", []string{"vneid_activation", "public_service_online", "team_operations"}},
	{"Tập huấn kỹ năng cho Tổ công nghệ số cộng đồng (đợt 2)", "2025-10-15", []string{"cashless_payment", "hue_s", "cyber_safety"}},
	{"Chữ ký số, địa chỉ số cho người dân", "2026-03-10", []string{"digital_signature", "digital_address"}},
	{"Bình dân học vụ số: kỹ năng số cơ bản", "2026-09-05", []string{"digital_skills", "cyber_safety"}},
}

// Trainings generates a training history in which share of the teams of regs
// have at least one trained member: the city's courses for team leaders, and
// each commune's own courses for other members.
func Trainings(regs []*domain.CommuneRegistry, share float64, seed uint64, province string) []domain.Training {
	r := rand.New(rand.NewPCG(seed, 0x7a17))
	var teams []domain.Team
	members := map[string][]domain.Member{}
	for _, reg := range regs {
		for _, m := range reg.Members {
			if m.Active {
				members[m.TeamID] = append(members[m.TeamID], m)
			}
		}
		for _, t := range reg.Teams {
			if t.Active && len(members[t.ID]) > 0 {
				teams = append(teams, t)
			}
		}
	}
	order := r.Perm(len(teams))
	trained := make([]domain.Team, 0, len(teams))
	for _, i := range order[:int(math.Round(share*float64(len(teams))))] {
		trained = append(trained, teams[i])
	}
	sort.Slice(trained, func(i, j int) bool { return trained[i].ID < trained[j].ID })
	at := func(day string, hour int) time.Time {
		return domain.Date(day).Time().Add(time.Duration(hour) * time.Hour).UTC()
	}
	var out []domain.Training
	for i, c := range provinceCourses {
		out = append(out, domain.Training{ID: fmt.Sprintf("TR-P%d", i+1), Title: c.title, Topics: c.topics,
			Level: domain.LevelProvinceTraining, UnitCode: province, OrganizingUnit: "Sở Khoa học và Công nghệ thành phố Huế",
			StartsAt: at(c.day, 8), EndsAt: at(c.day, 16), Location: "Trung tâm Hội nghị thành phố Huế", Trainer: "Sở KH&CN, VNPT Huế",
			CreatedAt: at(c.day, 0), CreatedBy: "demo"})
	}
	communeCourses := map[string]int{}
	for _, t := range trained {
		ms := members[t.ID]
		// The leader (or the first member) goes to one or two city courses…
		lead := ms[0]
		for _, m := range ms {
			if m.Position == domain.PositionLeader {
				lead = m
			}
		}
		k := r.IntN(len(provinceCourses))
		out[k].Attend([]domain.Member{lead}, "demo", "sheet", out[k].StartsAt)
		if r.IntN(3) == 0 {
			k2 := (k + 1 + r.IntN(len(provinceCourses)-1)) % len(provinceCourses)
			out[k2].Attend([]domain.Member{lead}, "demo", "sheet", out[k2].StartsAt)
		}
		// …and some members go to their commune's course.
		if r.IntN(2) == 0 && len(ms) > 1 {
			idx, ok := communeCourses[t.CommuneCode]
			if !ok {
				day := fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(10), 1+r.IntN(27))
				topics := []string{"vneid_activation", "vneid_install", "cyber_safety", "hue_s", "digital_skills", "public_service_online"}
				r.Shuffle(len(topics), func(i, j int) { topics[i], topics[j] = topics[j], topics[i] })
				picked := append([]string(nil), topics[:2+r.IntN(2)]...)
				sort.Strings(picked)
				out = append(out, domain.Training{ID: "TR-C" + t.CommuneCode, Title: "Tập huấn cho thành viên Tổ CNSCĐ của xã, phường",
					Topics: picked, Level: domain.LevelCommuneTraining, UnitCode: t.CommuneCode, OrganizingUnit: "UBND xã, phường",
					StartsAt: at(day, 8), EndsAt: at(day, 11), Location: "Hội trường UBND", Trainer: "Công an xã, Đoàn thanh niên",
					CreatedAt: at(day, 0), CreatedBy: "demo"})
				idx = len(out) - 1
				communeCourses[t.CommuneCode] = idx
			}
			n := 1 + r.IntN(min(3, len(ms)-1))
			var attend []domain.Member
			for _, m := range ms {
				if m.ID != lead.ID && len(attend) < n {
					attend = append(attend, m)
				}
			}
			out[idx].Attend(attend, "demo", "list", out[idx].StartsAt)
		}
	}
	return out
}
