// Package seed generates realistic data sets: the demo data of CDT_DEMO and the
// data of `cdt seed`. The same seed always gives the same data.
package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Shape is the size of a generated registry.
type Shape struct {
	Villages int // total villages over all communes
	Teams    int // teams (one per village, fewer villages than teams impossible)
	Members  int
}

// Hue is the shape of Thừa Thiên Huế's reports: 1,100 teams and 5,580 members,
// with a few villages still without a team.
var Hue = Shape{Villages: 1150, Teams: 1100, Members: 5580}

// Registries generates the villages, teams and members of communes, sharing
// shape's totals among them in proportion to their 2019 households.
func Registries(communes []domain.Unit, shape Shape, seed uint64, today domain.Date) []*domain.CommuneRegistry {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	weights := make([]float64, len(communes))
	var total float64
	for i, c := range communes {
		weights[i] = float64(max(c.Households2019, 1000))
		total += weights[i]
	}
	villages := apportion(weights, total, shape.Villages, 1)
	teams := apportion(weights, total, shape.Teams, 1)
	for i := range teams {
		teams[i] = min(teams[i], villages[i])
	}
	teamWeights := make([]float64, len(teams))
	teamTotal := 0.0
	for i, t := range teams {
		teamWeights[i] = float64(t)
		teamTotal += float64(t)
	}
	members := apportion(teamWeights, teamTotal, shape.Members, 3)
	phones := map[string]bool{}
	var out []*domain.CommuneRegistry
	for i, c := range communes {
		out = append(out, commune(r, c, villages[i], teams[i], members[i], today, phones))
	}
	return out
}

// apportion shares n among weights, each getting at least floor.
func apportion(weights []float64, total float64, n, floor int) []int {
	out := make([]int, len(weights))
	type rem struct {
		i int
		f float64
	}
	var rems []rem
	given := 0
	for i, w := range weights {
		exact := float64(n) * w / total
		out[i] = max(int(exact), floor)
		given += out[i]
		rems = append(rems, rem{i, exact - math.Floor(exact)})
	}
	sort.Slice(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < n; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// highland communes of A Lưới and Nam Đông (names of their villages and people).
func highland(c domain.Unit) bool {
	return strings.HasPrefix(c.ShortName, "A Lưới") || c.ShortName == "Nam Đông" || c.ShortName == "Khe Tre" || c.ShortName == "Long Quảng"
}

func commune(r *rand.Rand, c domain.Unit, nVillages, nTeams, nMembers int, today domain.Date, phones map[string]bool) *domain.CommuneRegistry {
	reg := &domain.CommuneRegistry{Code: c.Code}
	founded := time.Date(2025, 7, 10, 2, 0, 0, 0, time.UTC)
	hh := float64(max(c.Households2019, 1000)) * 1.12 // households grew since the 2019 census
	used := map[string]bool{}
	for v := range nVillages {
		var name, typ string
		switch {
		case c.Type == domain.TypePhuong:
			name, typ = fmt.Sprintf("Tổ dân phố %d", v+1), domain.TypeToDanPho
		case highland(c) && v < len(highlandVillages):
			name, typ = "Thôn "+highlandVillages[(v+r.IntN(7))%len(highlandVillages)], domain.TypeThon
		default:
			name, typ = "Thôn "+pick(r, villageFirst)+" "+pick(r, villageSecond), domain.TypeThon
		}
		for used[domain.FoldKey(name)] {
			name = fmt.Sprintf("%s %d", name, r.IntN(9)+1)
		}
		used[domain.FoldKey(name)] = true
		share := hh / float64(nVillages) * (0.6 + 0.8*r.Float64())
		if _, err := reg.AddVillage(domain.NewVillage{Name: name, Type: typ, Households: int(share)}, founded); err != nil {
			panic(fmt.Sprintf("seed: village %q: %v", name, err))
		}
	}
	// Teams: one per village for the first nTeams villages (a shuffled order
	// leaves a few villages of each commune without a team).
	withTeam := map[int]bool{}
	for _, i := range r.Perm(nVillages)[:nTeams] {
		withTeam[i] = true
	}
	decision := fmt.Sprintf("%d/QĐ-UBND", 100+r.IntN(700))
	decisionDay := domain.Date(fmt.Sprintf("2025-%02d-%02d", 7+r.IntN(3), 1+r.IntN(28)))
	for i, v := range reg.Villages {
		if !withTeam[i] {
			continue
		}
		name := "Tổ CNSCĐ " + strings.TrimPrefix(strings.TrimPrefix(v.Name, "Thôn "), "Tổ dân phố ")
		if v.Type == domain.TypeToDanPho {
			name = "Tổ CNSCĐ TDP " + strings.TrimPrefix(v.Name, "Tổ dân phố ")
		}
		_, err := reg.AddTeam(domain.NewTeam{Name: name, VillageCode: v.Code, EstablishedOn: string(decisionDay),
			DecisionNo: decision}, today, founded)
		if err != nil {
			panic(fmt.Sprintf("seed: team %q: %v", name, err))
		}
	}
	// Members: 3 to 8 per team, a leader and a deputy first.
	sizes := teamSizes(r, nTeams, nMembers)
	for t, team := range reg.Teams {
		for k := range sizes[t] {
			pos, aff := memberRole(r, k)
			gender := "m"
			if r.IntN(100) < genderShare(aff) {
				gender = "f"
			}
			in := domain.NewMember{TeamID: team.ID, FullName: personName(r, gender, highland(c)), Phone: phone(r, phones),
				Position: string(pos), Affiliation: aff, Gender: gender, BirthYear: birthYear(r, aff),
				JoinedOn: string(decisionDay)}
			if _, err := reg.AddMember(in, "seed", today, founded); err != nil {
				panic(fmt.Sprintf("seed: member: %v", err))
			}
		}
	}
	return reg
}

// teamSizes shares total members among n teams, 3 to 9 each, varied but
// adding up exactly to total.
func teamSizes(r *rand.Rand, n, total int) []int {
	sizes := apportion(uniform(n), float64(n), total, 3)
	for i := range sizes {
		sizes[i] = min(max(sizes[i]+r.IntN(3)-1, 3), 9)
	}
	sum := 0
	for _, s := range sizes {
		sum += s
	}
	for guard := 0; sum != total && guard < 100*n; guard++ {
		i := r.IntN(n)
		switch {
		case sum > total && sizes[i] > 3:
			sizes[i]--
			sum--
		case sum < total && sizes[i] < 9:
			sizes[i]++
			sum++
		}
	}
	return sizes
}

func uniform(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

func memberRole(r *rand.Rand, k int) (domain.Position, string) {
	switch k {
	case 0:
		return domain.PositionLeader, weighted{{"village_head", 70}, {"fatherland_front", 12}, {"commune_police", 8}, {"veterans_association", 10}}.pick(r)
	case 1:
		return domain.PositionDeputy, weighted{{"youth_union", 60}, {"womens_union", 25}, {"commune_police", 15}}.pick(r)
	case 2:
		return domain.PositionMember, "commune_police"
	}
	return domain.PositionMember, weighted{{"womens_union", 22}, {"youth_union", 22}, {"farmers_union", 12},
		{"veterans_association", 8}, {"telecom", 8}, {"school", 10}, {"resident", 15}, {"other", 3}}.pick(r)
}

func genderShare(aff string) int {
	switch aff {
	case "womens_union":
		return 100
	case "commune_police", "veterans_association":
		return 12
	case "village_head":
		return 25
	}
	return 48
}

func birthYear(r *rand.Rand, aff string) int {
	switch aff {
	case "youth_union", "school":
		return 1990 + r.IntN(15)
	case "veterans_association":
		return 1955 + r.IntN(15)
	}
	return 1965 + r.IntN(35)
}

func phone(r *rand.Rand, used map[string]bool) string {
	for {
		p := pick(r, mobilePrefixes) + fmt.Sprintf("%07d", r.IntN(10_000_000))
		if !used[p] {
			used[p] = true
			return p
		}
	}
}
