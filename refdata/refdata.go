// Package refdata ships the administrative units of Huế (GSO province code 46) in
// the binary: 141 communes in 9 districts until 31 December 2024, 133 communes in
// 9 districts from 1 January to 30 June 2025, and 40 communes and wards with no
// district level from 1 July 2025, with the mappings from old to new units and
// the 2019 census figures. The CSV files and their sources are in data/ (see
// data/SOURCES.md); they are the files of shared/data/hue, unchanged.
package refdata

import (
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hue-cdt/cdt/domain"
)

//go:embed data/*.csv data/SOURCES.md
var files embed.FS

// ProvinceCode is the GSO code of Thừa Thiên Huế, kept by Huế city.
const ProvinceCode = "46"

// The three periods the data covers.
const (
	P1From = domain.Date("2021-11-01") // 141 communes, 9 districts
	P1To   = domain.Date("2024-12-31")
	P2From = domain.Date("2025-01-01") // 133 communes, 9 districts
	P2To   = domain.Date("2025-06-30")
	P3From = domain.Date("2025-07-01") // 40 communes and wards, no districts
)

// Units returns every unit of every period.
func Units() ([]domain.Unit, error) {
	var b builder
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("refdata: %w", err)
	}
	return b.units, nil
}

// Catalog returns the units as a catalog; it panics if the embedded data is broken,
// which the package tests rule out.
func Catalog() *domain.UnitCatalog {
	us, err := Units()
	if err != nil {
		panic(err)
	}
	return domain.NewUnitCatalog(us)
}

// Sources returns data/SOURCES.md.
func Sources() string {
	b, _ := files.ReadFile("data/SOURCES.md")
	return string(b)
}

type builder struct {
	units []domain.Unit
}

func (b *builder) build() error {
	// Province: Thừa Thiên Huế province until 2024, then Huế, a centrally-run city.
	b.units = append(b.units,
		domain.Unit{Code: ProvinceCode, Name: "Tỉnh Thừa Thiên Huế", ShortName: "Thừa Thiên Huế",
			Level: domain.LevelProvince, Type: domain.TypeTinh, ValidFrom: P1From, ValidTo: P1To, SuccessorCode: ProvinceCode},
		domain.Unit{Code: ProvinceCode, Name: "Thành phố Huế", ShortName: "Huế",
			Level: domain.LevelProvince, Type: domain.TypeThanhPhoTW, ValidFrom: P2From})

	for _, d := range []struct {
		file     string
		from, to domain.Date
	}{{"districts_2024.csv", P1From, P1To}, {"districts_2025_01.csv", P2From, P2To}} {
		rows, err := readCSV(d.file)
		if err != nil {
			return err
		}
		for _, r := range rows {
			b.units = append(b.units, domain.Unit{Code: r["code"], Name: r["name"], ShortName: shortName(r["name"]),
				Level: domain.LevelDistrict, Type: typeCode(r["type"]), ParentCode: ProvinceCode,
				ValidFrom: d.from, ValidTo: d.to})
		}
	}

	hh2019, pop2019, err := census2024()
	if err != nil {
		return err
	}
	via, err := readMap("mapping_2024_2025.csv", "old_code", "via_2025_01_code")
	if err != nil {
		return err
	}
	p1, err := b.communes("units_2024.csv", P1From, P1To, via, hh2019, pop2019)
	if err != nil {
		return err
	}
	// Jan–Jun 2025 figures: the 2024 units that formed each unit, summed.
	hh2025, pop2025 := map[string]int{}, map[string]int{}
	for _, u := range p1 {
		hh2025[u.SuccessorCode] += u.Households2019
		pop2025[u.SuccessorCode] += u.Population2019
	}
	next, err := readMap("mapping_2025_01_2025_07.csv", "old_code", "new_code")
	if err != nil {
		return err
	}
	if _, err := b.communes("units_2025_01.csv", P2From, P2To, next, hh2025, pop2025); err != nil {
		return err
	}

	rows, err := readCSV("units_2025.csv")
	if err != nil {
		return err
	}
	pop, err := readCSV("population_2025_units.csv")
	if err != nil {
		return err
	}
	fig := map[string]map[string]string{}
	for _, r := range pop {
		fig[r["new_code"]] = r
	}
	for _, r := range rows {
		u := domain.Unit{Code: r["code"], Name: r["name"], ShortName: shortName(r["name"]),
			Level: domain.LevelCommune, Type: typeCode(r["type"]), ParentCode: ProvinceCode, ValidFrom: P3From}
		if f, ok := fig[u.Code]; ok {
			u.Households2019, _ = strconv.Atoi(f["census2019_households"])
			u.Population2019, _ = strconv.Atoi(f["census2019_population"])
		}
		b.units = append(b.units, u)
	}
	return nil
}

func (b *builder) communes(file string, from, to domain.Date, successor map[string]string, hh, pop map[string]int) ([]domain.Unit, error) {
	rows, err := readCSV(file)
	if err != nil {
		return nil, err
	}
	var out []domain.Unit
	for _, r := range rows {
		u := domain.Unit{Code: r["code"], Name: r["name"], ShortName: shortName(r["name"]),
			Level: domain.LevelCommune, Type: typeCode(r["type"]), ParentCode: r["district_code"],
			ValidFrom: from, ValidTo: to, SuccessorCode: successor[r["code"]],
			Households2019: hh[r["code"]], Population2019: pop[r["code"]]}
		if u.SuccessorCode == "" {
			return nil, fmt.Errorf("%s: %s has no successor", file, u.Code)
		}
		out = append(out, u)
	}
	b.units = append(b.units, out...)
	return out, nil
}

// census2024 adds the 2019 census up per 2024 unit. A 2019 unit later split
// between several 2024 units (19744 Phú Thuận) is shared equally among them, so
// those figures are approximate.
func census2024() (hh, pop map[string]int, err error) {
	rows, err := readCSV("population_census2019.csv")
	if err != nil {
		return nil, nil, err
	}
	hh, pop = map[string]int{}, map[string]int{}
	for _, r := range rows {
		codes := strings.Split(r["codes_2024"], ";")
		h, _ := strconv.Atoi(r["households"])
		p, _ := strconv.Atoi(r["population"])
		for _, c := range codes {
			hh[c] += h / len(codes)
			pop[c] += p / len(codes)
		}
	}
	return hh, pop, nil
}

func readMap(file, key, value string) (map[string]string, error) {
	rows, err := readCSV(file)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r[key]] = r[value]
	}
	return m, nil
}

func readCSV(name string) ([]map[string]string, error) {
	f, err := files.Open("data/" + name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []map[string]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = strings.TrimSpace(rec[i])
		}
		out = append(out, row)
	}
}

var prefixes = []string{"Thành phố ", "Thị trấn ", "Thị xã ", "Phường ", "Huyện ", "Quận ", "Xã "}

func shortName(full string) string {
	for _, p := range prefixes {
		if s, ok := strings.CutPrefix(full, p); ok {
			return s
		}
	}
	return full
}

func typeCode(t string) string {
	switch t {
	case "xã":
		return domain.TypeXa
	case "phường":
		return domain.TypePhuong
	case "thị trấn":
		return domain.TypeThiTran
	case "thành phố":
		return domain.TypeThanhPho
	case "quận":
		return domain.TypeQuan
	case "huyện":
		return domain.TypeHuyen
	case "thị xã":
		return domain.TypeThiXa
	}
	return t
}
