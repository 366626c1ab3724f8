package refdata

import (
	"testing"

	"github.com/hue-cdt/cdt/domain"
)

func TestPeriodsHaveTheOfficialCounts(t *testing.T) {
	cat := Catalog()
	tests := []struct {
		day                 domain.Date
		communes, districts int
		province            string
	}{
		{"2024-06-01", 141, 9, "Tỉnh Thừa Thiên Huế"},
		{"2024-12-31", 141, 9, "Tỉnh Thừa Thiên Huế"},
		{"2025-01-01", 133, 9, "Thành phố Huế"},
		{"2025-06-30", 133, 9, "Thành phố Huế"},
		{"2025-07-01", 40, 0, "Thành phố Huế"},
		{"2026-11-21", 40, 0, "Thành phố Huế"},
	}
	for _, tc := range tests {
		t.Run(string(tc.day), func(t *testing.T) {
			c := cat.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: tc.day})
			d := cat.Find(domain.UnitFilter{Level: domain.LevelDistrict, AsOf: tc.day})
			if len(c) != tc.communes || len(d) != tc.districts {
				t.Fatalf("communes=%d districts=%d, want %d and %d", len(c), len(d), tc.communes, tc.districts)
			}
			p, ok := cat.Get(ProvinceCode, tc.day)
			if !ok || p.Name != tc.province {
				t.Fatalf("province = %+v", p)
			}
		})
	}
	if got := cat.Find(domain.UnitFilter{AsOf: "2020-01-01"}); len(got) != 0 {
		t.Fatalf("units before the data starts: %d", len(got))
	}
}

func TestEveryOldCommuneRollsUpToACurrentOne(t *testing.T) {
	cat := Catalog()
	current := map[string]bool{}
	for _, u := range cat.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: P3From}) {
		current[u.Code] = true
	}
	reached := map[string]bool{}
	for _, day := range []domain.Date{"2024-01-01", "2025-03-01"} {
		for _, u := range cat.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: day}) {
			now, ok := cat.Current(u.Code, day, "2026-11-21")
			if !ok || !current[now] {
				t.Fatalf("%s %s (%s) resolves to %q", u.Code, u.Name, day, now)
			}
			reached[now] = true
		}
	}
	if len(reached) != 40 {
		t.Fatalf("old communes reach %d current ones, want all 40", len(reached))
	}
	// Spot checks from NQ 1675: Tây Lộc and Thuận Lộc became Phú Xuân ward.
	for _, code := range []string{"19750", "19753"} {
		if now, _ := cat.Current(code, "2024-05-01", "2026-11-21"); now != "19753" {
			t.Fatalf("%s → %s, want 19753", code, now)
		}
	}
	// A code reused by a different unit: 19753 was Thuận Lộc before July 2025.
	old, _ := cat.Get("19753", "2025-03-01")
	cur, _ := cat.Get("19753", "2026-01-01")
	if old.Name != "Phường Thuận Lộc" || cur.Name != "Phường Phú Xuân" || old.SuccessorCode != "19753" {
		t.Fatalf("19753: %+v / %+v", old, cur)
	}
}

func TestCensusFiguresAddUpToTheProvinceTotal(t *testing.T) {
	cat := Catalog()
	for _, day := range []domain.Date{"2024-01-01", "2025-03-01", "2026-01-01"} {
		var hh, pop int
		for _, u := range cat.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: day}) {
			hh += u.Households2019
			pop += u.Population2019
		}
		// 305,905 households and 1,128,620 people in the 2019 census; the split of
		// one 2019 ward between two 2024 units may lose a unit to rounding.
		if hh < 305_900 || hh > 305_905 || pop < 1_128_615 || pop > 1_128_620 {
			t.Fatalf("%s: households %d, population %d", day, hh, pop)
		}
	}
}

func TestNamesAndTypes(t *testing.T) {
	cat := Catalog()
	u, ok := cat.Get("20137", "2026-01-01")
	if !ok || u.ShortName != "Chân Mây - Lăng Cô" || u.Type != domain.TypeXa || u.ParentCode != ProvinceCode {
		t.Fatalf("20137: %+v", u)
	}
	d, ok := cat.Get("475", "2025-02-01")
	if !ok || d.ShortName != "Phú Xuân" || d.Type != domain.TypeQuan {
		t.Fatalf("475: %+v", d)
	}
	if _, ok := cat.Get("475", "2024-02-01"); ok {
		t.Fatal("district 475 did not exist in 2024")
	}
	if Sources() == "" {
		t.Fatal("SOURCES.md is not embedded")
	}
}
