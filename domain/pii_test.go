package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScrubPIIRemovesEveryCommonForm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// mobile numbers
		{"gọi lại 0912345678", "gọi lại [SĐT]"},
		{"gọi lại 0912 345 678 buổi chiều", "gọi lại [SĐT] buổi chiều"},
		{"SĐT: 0912.345.678", "SĐT: [SĐT]"},
		{"0912-345-678", "[SĐT]"},
		{"số 091 234 5678 của con trai", "số [SĐT] của con trai"},
		{"0905 123456", "[SĐT]"},
		{"0 905 123 456", "[SĐT]"},
		{"con gái: 0386.123.456, chồng 0779 123 456", "con gái: [SĐT], chồng [SĐT]"},
		{"đt 0581234567", "đt [SĐT]"},
		{"+84912345678", "[SĐT]"},
		{"+84 912 345 678", "[SĐT]"},
		{"+84-912-345-678", "[SĐT]"},
		{"(+84) 912 345 678", "[SĐT]"},
		{"+84 (0) 912 345 678", "[SĐT]"},
		{"84912345678", "[SĐT]"},
		{"0084 912 345 678", "[SĐT]"},
		{"zalo0912345678", "zalo[SĐT]"},
		{"01234567890 (số cũ)", "[SĐT] (số cũ)"},
		{"０９１２３４５６７８", "[SĐT]"},
		{"0912345678/0987654321", "[SĐT]/[SĐT]"},
		{"0912345678 0987654321", "[SĐT] [SĐT]"},
		{"tổ 12 0912345678", "tổ 12 [SĐT]"},
		{"0905 123 456 23 hộ", "[SĐT] 23 hộ"},
		// landlines (Huế 0234, Hà Nội 024)
		{"UBND phường (0234) 3822 123", "UBND phường [SĐT]"},
		{"0234.3822.123", "[SĐT]"},
		{"0234 3822123", "[SĐT]"},
		{"024 3825 1234", "[SĐT]"},
		{"+84 234 3822 123", "[SĐT]"},
		{"054 3822123 (số cũ)", "[SĐT] (số cũ)"},
		// citizen ID numbers
		{"CCCD 046095001234", "CCCD [CCCD]"},
		{"số định danh 046 095 001 234", "số định danh [CCCD]"},
		{"046095001234", "[CCCD]"},
		{"0460 9500 1234", "[CCCD]"},
		{"046.095.001.234", "[CCCD]"},
		{"CMND 191234567", "CMND [CCCD]"},
		{"số CMND: 191 234 567 cấp ngày 12/03/2010", "số CMND: [CCCD] cấp ngày 12/03/2010"},
		{"chứng minh số 191234567", "chứng minh số [CCCD]"},
		{"căn cước là 046095001234", "căn cước là [CCCD]"},
		// e-mail
		{"gửi về lan.nguyen@gmail.com nhé", "gửi về [email] nhé"},
		{"Email: NGUYEN.VAN_A+hue@Hue.Gov.VN.", "Email: [email]."},
		{"tranthib0912345678@yahoo.com.vn", "[email]"},
		// everything at once
		{"0912345678, CCCD 046095001234, a@b.vn", "[SĐT], CCCD [CCCD], [email]"},
	} {
		got, red := ScrubPII(tc.in)
		if got != tc.want {
			t.Errorf("ScrubPII(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !red.Any() || strings.Count(tc.want, "[") != red.Phones+red.CitizenIDs+red.Emails {
			t.Errorf("ScrubPII(%q) counted %+v", tc.in, red)
		}
	}
}

func TestScrubPIIKeepsDatesMoneyAndCounts(t *testing.T) {
	for _, in := range []string{
		"ngày 12/03/2025 đến 15/03/2025",
		"12.03.2025 lúc 07:30",
		"2025-03-12",
		"05 03 2025",
		"phí 1.200.000đ, tạm ứng 500.000 đồng",
		"120.000.000.000 VND",
		"2 triệu, 500k",
		"5 hộ, 12 người, hộ số 0123",
		"gọi tổng đài 1900 1234 hoặc 1800 1091",
		"số 113, 114, 115",
		"tổ 03 04 05 06 07",
		"thôn 3, tổ 5, nhà số 123/45",
		"mã hồ sơ 000.00.12.H57-250312-0001",
		"năm sinh 1960, 1962 và 1990",
		"9 giờ 30, còn 045 phút",
		"nộp lệ phí 100000 đồng",
		"0905 123 4",
		"091234567",
		"02343822",
		"",
		"CMND cũ không nhớ số",
	} {
		if got, red := ScrubPII(in); got != in || red.Any() {
			t.Errorf("ScrubPII(%q) = %q (%+v), want it unchanged", in, got, red)
		}
	}
}

func TestCleanFreeTextAndRedactionMessages(t *testing.T) {
	got, red := CleanFreeText("  gọi   0912 345 678\n hoặc  a@b.vn ")
	if got != "gọi [SĐT] hoặc [email]" || red != (Redaction{Phones: 1, Emails: 1}) {
		t.Fatalf("CleanFreeText = %q %+v", got, red)
	}
	ms := red.Messages()
	if len(ms) != 2 || ms[0] != (RedactionMessage{"pii.removed.phone", 1}) || ms[1].ID != "pii.removed.email" {
		t.Fatalf("messages %+v", ms)
	}
}

// FuzzScrubPII: whatever is typed, the scrubbed text is valid UTF-8 when the
// input is, holds nothing FindPII would find, scrubs to itself, and a phone
// number or CCCD planted between two words never survives in any form.
func FuzzScrubPII(f *testing.F) {
	for _, s := range []string{"gọi lại 0912345678", "CCCD 046 095 001 234", "a@b.vn", "(+84) 912.345.678", "ngày 12/03/2025",
		"1.200.000đ", "0905 123 456 23 hộ", "+84 (0) 912 345 678", "０９１２３４５６７８", "CMND: 191 234 567"} {
		f.Add(s, uint32(912345678), uint8(0))
	}
	formats := []func(n string) string{
		func(n string) string { return n },
		func(n string) string { return n[:4] + " " + n[4:7] + " " + n[7:] },
		func(n string) string { return n[:4] + "." + n[4:7] + "." + n[7:] },
		func(n string) string { return n[:3] + "-" + n[3:6] + "-" + n[6:] },
		func(n string) string { return "+84 " + n[1:4] + " " + n[4:7] + " " + n[7:] },
		func(n string) string { return "(+84) " + n[1:] },
		func(n string) string { return "0084" + n[1:] },
	}
	f.Fuzz(func(t *testing.T, s string, num uint32, form uint8) {
		out, _ := ScrubPII(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("ScrubPII(%q) = %q: invalid UTF-8", s, out)
		}
		if ms := FindPII(out); len(ms) > 0 {
			t.Fatalf("ScrubPII(%q) = %q still holds %+v", s, out, ms)
		}
		if again, red := ScrubPII(out); again != out || red.Any() {
			t.Fatalf("ScrubPII not idempotent: %q → %q → %q", s, out, again)
		}
		// Plant a mobile number between two words of s.
		phone := "09" + strings.Repeat("0", 8-len(itoa(num%100_000_000))) + itoa(num%100_000_000)
		planted := formats[int(form)%len(formats)](phone)
		prefix := "x " + strings.ReplaceAll(s, "0", "o") + " "
		in := prefix + planted + " y"
		covered := false
		for _, m := range FindPII(in) {
			covered = covered || (m.Start <= len(prefix) && m.End >= len(prefix)+len(planted))
		}
		if out, red := ScrubPII(in); !covered || red.Phones+red.CitizenIDs == 0 || strings.Contains(out, planted) {
			t.Fatalf("planted %q in %q: got %q (%+v)", planted, in, out, red)
		}
	})
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
