package seed

import "math/rand/v2"

// Name parts for plausible Vietnamese names, weighted roughly like Huế's
// population (Nguyễn, Trần, Lê most common; Hồ and Tôn Thất more than elsewhere).
var familyNames = weighted{
	{"Nguyễn", 30}, {"Trần", 11}, {"Lê", 10}, {"Phan", 6}, {"Hồ", 5}, {"Võ", 5}, {"Phạm", 5}, {"Hoàng", 4},
	{"Huỳnh", 3}, {"Trương", 3}, {"Đặng", 2}, {"Bùi", 2}, {"Đỗ", 2}, {"Ngô", 2}, {"Dương", 1}, {"Tôn Thất", 1},
	{"Lương", 1}, {"Cao", 1}, {"Mai", 1}, {"Đoàn", 1}, {"Thái", 1}, {"Văn", 1}, {"Lý", 1},
}

// Family names of the Tà Ôi, Pa Kô and Cơ Tu people of A Lưới and Nam Đông.
var highlandFamilyNames = weighted{
	{"Hồ", 6}, {"Kray", 3}, {"Arất", 2}, {"Blúp", 2}, {"Căn", 2}, {"Nhâm", 2}, {"A Viết", 2}, {"Kăn", 1},
	{"Lê", 2}, {"Trần", 1}, {"Pả", 1}, {"Quỳnh", 1},
}

var middleMale = []string{"Văn", "Hữu", "Đức", "Quang", "Minh", "Công", "Ngọc", "Thanh", "Xuân", "Đình"}
var middleFemale = []string{"Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai", "Phương", "Diệu"}

var givenMale = []string{"Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Hải", "Long", "Phúc", "Hoàng", "Bảo", "Khoa", "Huy",
	"Thắng", "Sơn", "Tài", "Quân", "Đạt", "Lộc", "Thành", "Trung", "Vinh", "Hiếu", "Nhân", "Tâm", "Cường", "Dương",
	"Hòa", "Khánh", "Phong", "Quang", "Thịnh", "Toàn", "Việt", "Anh", "Bình", "Châu", "Định", "Hưng", "Kiên", "Lâm"}

var givenFemale = []string{"Lan", "Hoa", "Hương", "Mai", "Hà", "Linh", "Trang", "Thảo", "Ngọc", "Yến", "Nhung", "Vân",
	"Phương", "Hằng", "Thủy", "Hạnh", "Tâm", "Nga", "Loan", "Dung", "My", "Quỳnh", "Thư", "Uyên", "Vy", "Trinh",
	"Nhi", "Diễm", "Oanh", "Hiền", "Liên", "Sương", "Tuyết", "Xuân", "An", "Bích", "Châu", "Giang", "Khuê", "Ly"}

// Village names: two syllables from these lists ("Thôn An Lưu").
var villageFirst = []string{"An", "Phú", "Phước", "Vĩnh", "Mỹ", "Thanh", "Tân", "Đông", "Tây", "Nam", "Bắc", "Trung",
	"Hòa", "Lương", "Thủy", "Hà", "La", "Văn", "Xuân", "Lại", "Kim", "Ngọc", "Hương", "Bình", "Phong", "Quảng",
	"Hải", "Cát", "Diên", "Triều", "Lộc", "Thượng", "Hạ", "Khê", "Đại", "Minh", "Thế", "Thạch"}
var villageSecond = []string{"Lưu", "Lương", "Di", "Hà", "Bằng", "Xương", "Lợi", "Trung", "Mỹ", "Điền", "Tích", "La",
	"Lập", "Thọ", "Hòa", "An", "Phú", "Khê", "Lâm", "Sơn", "Tân", "Thành", "Đông", "Tây", "Hội", "Xá", "Dương",
	"Thanh", "Ninh", "Bàng", "Chánh", "Hiền", "Lộc", "Long", "Vinh", "Quang", "Hưng", "Phước", "Lai", "Môn"}
var highlandVillages = []string{"A Đớt", "A Hố", "Pa Ring", "Ka Vin", "Căn Sâm", "Aka", "Pi Xai", "Ta Lo", "A Ngo",
	"Hợp Thành", "Đông Sơn", "Hồng Thủy", "Kê", "Ba Lạch", "A Tia", "Chi Lanh", "Pa E", "Tà Rương", "A Năm", "Lê Triêng",
	"Ca Cú", "Kleng", "Aroàng", "Pa Hy", "Ta Ay", "A Sáp", "Cân Tôm", "Ka Nôn", "Tru Pỉ", "A Roh", "Ta Rá", "Ăm Mứ",
	"Tà Lùng", "Pâr Lieng", "Cha Lo", "Dỗi", "Ka Lô", "A Lin", "Ráo", "Ta Vai"}

type weighted []struct {
	s string
	w int
}

func (ws weighted) pick(r *rand.Rand) string {
	total := 0
	for _, x := range ws {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range ws {
		if n < x.w {
			return x.s
		}
		n -= x.w
	}
	return ws[0].s
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// personName returns a full name for gender "f" or "m".
func personName(r *rand.Rand, gender string, highland bool) string {
	family := familyNames.pick(r)
	if highland && r.IntN(10) < 7 {
		family = highlandFamilyNames.pick(r)
	}
	if gender == "f" {
		if family == "Tôn Thất" {
			family = "Tôn Nữ"
		}
		return family + " " + pick(r, middleFemale) + " " + pick(r, givenFemale)
	}
	return family + " " + pick(r, middleMale) + " " + pick(r, givenMale)
}

// Mobile prefixes in use in Vietnam (Viettel, VinaPhone, MobiFone, Vietnamobile).
var mobilePrefixes = []string{"032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079",
	"081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096", "097", "098"}
