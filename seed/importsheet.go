package seed

import (
	"fmt"
	"math/rand/v2"

	"github.com/hue-cdt/cdt/domain"
)

// affiliationLabels are the ways the communes' spreadsheets name each
// organisation.
var affiliationLabels = map[string][]string{
	"commune_police":       {"Công an xã", "Công an phường", "CA xã"},
	"youth_union":          {"Đoàn thanh niên", "Đoàn TN", "Bí thư chi đoàn"},
	"womens_union":         {"Hội Phụ nữ", "Hội LHPN", "Chi hội phụ nữ"},
	"farmers_union":        {"Hội Nông dân", "Hội ND"},
	"veterans_association": {"Hội Cựu chiến binh", "Hội CCB"},
	"fatherland_front":     {"Mặt trận Tổ quốc", "Ban công tác Mặt trận", "MTTQ"},
	"telecom":              {"Viettel", "VNPT Huế", "Bưu điện"},
	"school":               {"Giáo viên", "Trường THCS"},
	"village_head":         {"Trưởng thôn", "Tổ trưởng TDP"},
	"resident":             {"Người dân"},
	"other":                {"Khác"},
}

var positionLabels = map[domain.Position][]string{
	domain.PositionLeader: {"Tổ trưởng", "Tổ trưởng", "TỔ TRƯỞNG"},
	domain.PositionDeputy: {"Tổ phó", "Phó tổ trưởng"},
	domain.PositionMember: {"Thành viên", "Tổ viên", ""},
}

// RegistrySheet writes the active members of regs as a commune's
// spreadsheet would list them, one line each under the import template's
// headers: the commune by code or name, phones in the forms people type
// (spaces, dots, +84, the leading zero lost by Excel), positions and
// organisations in words, birth years or birth dates. Importing it into an
// empty database gives back the teams and members of regs.
func RegistrySheet(regs []*domain.CommuneRegistry, communes []domain.Unit, seed uint64) [][]string {
	r := rand.New(rand.NewPCG(seed, 0x5ee7))
	names := map[string]domain.Unit{}
	for _, u := range communes {
		names[u.Code] = u
	}
	out := [][]string{make([]string, len(domain.ImportColumns))}
	for i, c := range domain.ImportColumns {
		out[0][i] = domain.ImportHeaders[c]
	}
	for _, reg := range regs {
		villages := map[string]domain.Village{}
		for _, v := range reg.Villages {
			villages[v.Code] = v
		}
		teams := map[string]domain.Team{}
		for _, t := range reg.Teams {
			teams[t.ID] = t
		}
		for _, m := range reg.Members {
			if !m.Active {
				continue
			}
			t := teams[m.TeamID]
			v := villages[t.VillageCode]
			commune := []string{reg.Code, names[reg.Code].Name, names[reg.Code].ShortName}[r.IntN(3)]
			households := ""
			if v.Code != "" {
				households = fmt.Sprint(v.Households)
			}
			out = append(out, []string{commune, v.Name, t.Name, m.FullName, phoneAsTyped(r, m.Phone), pick(r, positionLabels[m.Position]),
				pick(r, affiliationLabels[m.Affiliation]), map[string]string{"m": "Nam", "f": "Nữ", "x": "Khác"}[m.Gender],
				yearAsTyped(r, m.BirthYear), households, t.DecisionNo, t.EstablishedOn.Time().Format("02/01/2006")})
		}
	}
	return out
}

func phoneAsTyped(r *rand.Rand, p string) string {
	switch r.IntN(6) {
	case 0:
		return p[:4] + " " + p[4:7] + " " + p[7:]
	case 1:
		return "+84 " + p[1:4] + " " + p[4:7] + " " + p[7:]
	case 2:
		return p[1:] // a number cell: Excel dropped the zero
	case 3:
		return p[:4] + "." + p[4:7] + "." + p[7:]
	}
	return p
}

func yearAsTyped(r *rand.Rand, y int) string {
	if r.IntN(4) == 0 {
		return fmt.Sprintf("%02d/%02d/%d", 1+r.IntN(28), 1+r.IntN(12), y)
	}
	return fmt.Sprint(y)
}
