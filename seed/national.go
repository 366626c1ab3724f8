package seed

import (
	"fmt"
	"math/rand/v2"

	"github.com/hue-cdt/cdt/domain"
)

// National is the shape of the country's reports (March 2025): over 74,000
// teams and 340,000 members, in 3,321 communes after the July 2025 reform.
var National = Shape{Villages: 80_000, Teams: 74_000, Members: 340_000}

// NationalCommunes is the number of communes and wards after July 2025.
const NationalCommunes = 3321

// SyntheticUnits makes the provinces and communes a national data set needs
// besides Huế's: 33 provinces "S01"…"S33" and communes "80001"… (codes GSO
// does not use), with plausible household counts. They are synthetic: only
// Huế's units are real.
func SyntheticUnits(n int, seed uint64) []domain.Unit {
	r := rand.New(rand.NewPCG(seed, 0x5a7))
	var out []domain.Unit
	for p := 1; p <= 33; p++ {
		code := fmt.Sprintf("S%02d", p)
		out = append(out, domain.Unit{Code: code, Name: "Tỉnh mô phỏng " + code, ShortName: "Mô phỏng " + code,
			Level: domain.LevelProvince, Type: domain.TypeTinh, ValidFrom: "2025-07-01"})
	}
	for i := range n {
		code := fmt.Sprintf("%05d", 80001+i)
		typ, prefix := domain.TypeXa, "Xã"
		if r.IntN(4) == 0 {
			typ, prefix = domain.TypePhuong, "Phường"
		}
		name := fmt.Sprintf("%s %s %s", prefix, pick(r, villageFirst), pick(r, villageSecond))
		out = append(out, domain.Unit{Code: code, Name: name + " " + code[1:], ShortName: name[len(prefix)+1:] + " " + code[1:],
			Level: domain.LevelCommune, Type: typ, ParentCode: fmt.Sprintf("S%02d", 1+i%33), ValidFrom: "2025-07-01",
			Households2019: 2000 + r.IntN(13000)})
	}
	return out
}
