package domain

import (
	"context"
	"sort"
)

// Level is the administrative level of a unit.
type Level string

const (
	LevelProvince Level = "province"
	LevelDistrict Level = "district"
	LevelCommune  Level = "commune"
	LevelVillage  Level = "village"
)

// Valid reports whether l is a known level.
func (l Level) Valid() bool {
	switch l {
	case LevelProvince, LevelDistrict, LevelCommune, LevelVillage:
		return true
	}
	return false
}

// Unit types, as ASCII codes; their Vietnamese and English labels live in the
// message catalogue.
const (
	TypeTinh       = "tinh"         // province
	TypeThanhPhoTW = "thanh_pho_tw" // centrally-run city (province level)
	TypeThanhPho   = "thanh_pho"    // city (district level)
	TypeQuan       = "quan"         // urban district
	TypeHuyen      = "huyen"        // rural district
	TypeThiXa      = "thi_xa"       // town
	TypeXa         = "xa"           // rural commune
	TypePhuong     = "phuong"       // ward
	TypeThiTran    = "thi_tran"     // township
	TypeThon       = "thon"         // village
	TypeToDanPho   = "to_dan_pho"   // urban residential group
	TypeBan        = "ban"          // highland village
)

// VillageTypes are the types a village may have.
var VillageTypes = []string{TypeThon, TypeToDanPho, TypeBan}

// Unit is one administrative unit in one period of its history. The same GSO code
// can name different units in different periods (19753 was Thuận Lộc ward until
// 30 June 2025, then the merged Phú Xuân ward), so a unit is identified by its
// code together with its validity.
type Unit struct {
	Code          string
	Name          string // full name with its type prefix, as published
	ShortName     string // without the prefix
	Level         Level
	Type          string
	ParentCode    string
	ValidFrom     Date
	ValidTo       Date   // empty while in force
	SuccessorCode string // the unit it became part of (empty while in force)
	// Reference figures from the 2019 census, where the source gives them.
	Households2019 int
	Population2019 int
	// Households registered in a village by its commune.
	Households int
}

// InForce reports whether the unit existed on day d.
func (u Unit) InForce(d Date) bool {
	return u.ValidFrom <= d && (u.ValidTo == "" || d <= u.ValidTo)
}

// UnitFilter selects units; empty fields match everything.
type UnitFilter struct {
	Level  Level
	Parent string
	AsOf   Date
}

// Match reports whether u passes f.
func (f UnitFilter) Match(u Unit) bool {
	return (f.Level == "" || u.Level == f.Level) &&
		(f.Parent == "" || u.ParentCode == f.Parent) &&
		(f.AsOf == "" || u.InForce(f.AsOf))
}

// UnitCatalog answers questions about the shipped reference units (province,
// districts, communes in every period).
type UnitCatalog struct {
	units []Unit // sorted by code, then valid_from
}

// NewUnitCatalog builds a catalog of units.
func NewUnitCatalog(units []Unit) *UnitCatalog {
	us := append([]Unit(nil), units...)
	sort.SliceStable(us, func(i, j int) bool {
		if us[i].Code != us[j].Code {
			return us[i].Code < us[j].Code
		}
		return us[i].ValidFrom < us[j].ValidFrom
	})
	return &UnitCatalog{units: us}
}

// All returns every unit of every period.
func (c *UnitCatalog) All() []Unit { return append([]Unit(nil), c.units...) }

// Find returns the units matching f, in code order.
func (c *UnitCatalog) Find(f UnitFilter) []Unit {
	var out []Unit
	for _, u := range c.units {
		if f.Match(u) {
			out = append(out, u)
		}
	}
	return out
}

// Get returns unit code as it was on day d.
func (c *UnitCatalog) Get(code string, d Date) (Unit, bool) {
	i := sort.Search(len(c.units), func(i int) bool { return c.units[i].Code >= code })
	for ; i < len(c.units) && c.units[i].Code == code; i++ {
		if c.units[i].InForce(d) {
			return c.units[i], true
		}
	}
	return Unit{}, false
}

// Commune returns commune code if it is a commune in force on day d.
func (c *UnitCatalog) Commune(code string, d Date) (Unit, bool) {
	u, ok := c.Get(code, d)
	if !ok || u.Level != LevelCommune {
		return Unit{}, false
	}
	return u, true
}

// CommuneCodes lists the communes in force on day d, in code order.
func (c *UnitCatalog) CommuneCodes(d Date) []string {
	us := c.Find(UnitFilter{Level: LevelCommune, AsOf: d})
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Code
	}
	return out
}

// Versions returns every period of unit code, oldest first.
func (c *UnitCatalog) Versions(code string) []Unit {
	var out []Unit
	for _, u := range c.units {
		if u.Code == code {
			out = append(out, u)
		}
	}
	return out
}

// Current resolves a commune code of any period, on day d of its validity, to the
// commune it belongs to today (following successors). It returns the code itself
// when it is in force today.
func (c *UnitCatalog) Current(code string, d Date, today Date) (string, bool) {
	for range 10 { // a chain is at most a few links long
		u, ok := c.Get(code, d)
		if !ok {
			return "", false
		}
		if u.InForce(today) {
			return u.Code, true
		}
		if u.SuccessorCode == "" {
			return "", false
		}
		code, d = u.SuccessorCode, u.ValidTo.Next()
	}
	return "", false
}

// UnitStore persists the reference units so that other tools see them.
type UnitStore interface {
	SaveUnits(ctx context.Context, units []Unit) error
}
