package domain

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Personal data in free text (Law 91/2025/QH15: collect the minimum).
//
// Members and leaders type notes about citizens: "gọi lại 0912 345 678",
// "CCCD 046095001234". cdt removes phone numbers, citizen ID numbers and
// e-mail addresses from every such text before it is stored, and leaves a
// marker in their place, rather than refusing the text with a field error:
// the phone app queues records offline, so a refusal would reach the member
// hours later, when the citizen has gone, and would hold back a real
// assistance (which counts in the figures) for the sake of an optional note.
// Removing keeps the record and never stores the number; the marker and the
// Redaction returned with the record tell the member what was removed.
//
// What is found (FindPII):
//   - mobile numbers 0[35789]x xxx xxxx, old 11-digit 01x… numbers and
//     landlines 02xx xxx xxxx (Huế: 0234), written with spaces, dots, dashes
//     or brackets, with the +84, 84, 0084 or +84 (0) prefixes;
//   - 12-digit citizen ID numbers (CCCD: they all start with the 0 of a
//     province code), and 9- or 12-digit numbers after a label (CMND, CMT,
//     CCCD, căn cước, chứng minh, định danh);
//   - e-mail addresses.
//
// What is kept: dates (12/03/2025, 12.03.2025), money (1.200.000đ, 500k),
// counts (5 hộ), short numbers, hotlines (1900 1234, 1800…), numbers that do
// not start with 0 (a CCCD or a Vietnamese phone always does).

// PII kinds.
const (
	PIIPhone      = "phone"
	PIICitizenID  = "citizen_id"
	PIIEmail      = "email"
	maxPhoneGroup = 6 // digit groups one number may span
)

// Markers left in place of what was removed. They hold no digit, so a
// scrubbed text scrubs to itself.
const (
	MarkPhone     = "[SĐT]"
	MarkCitizenID = "[CCCD]"
	MarkEmail     = "[email]"
)

// PIIMatch is one item of personal data in a text, as byte offsets.
type PIIMatch struct {
	Kind       string
	Start, End int
}

// Redaction counts what was removed from a text, by kind.
type Redaction struct {
	Phones     int `json:"phones,omitempty"`
	CitizenIDs int `json:"citizen_ids,omitempty"`
	Emails     int `json:"emails,omitempty"`
}

// Any reports whether anything was removed.
func (r Redaction) Any() bool { return r.Phones+r.CitizenIDs+r.Emails > 0 }

// Messages are the catalogue keys and counts that tell the user what was
// removed ("pii.removed.phone" with N, …), Vietnamese and English alike.
func (r Redaction) Messages() []RedactionMessage {
	var out []RedactionMessage
	for _, m := range []RedactionMessage{{"pii.removed.phone", r.Phones}, {"pii.removed.citizen_id", r.CitizenIDs},
		{"pii.removed.email", r.Emails}} {
		if m.N > 0 {
			out = append(out, m)
		}
	}
	return out
}

// RedactionMessage is one catalogue message with its count (template field N).
type RedactionMessage struct {
	ID string
	N  int
}

var (
	emailRE    = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	idLabelRE  = regexp.MustCompile(`(?i)(cmnd|cmtnd|cmt|cccd|căn cước|can cuoc|chứng minh|chung minh|định danh|dinh danh)`)
	labelGapRE = regexp.MustCompile(`(?i)^[\s:.#\-]*(?:(?:số|so)[\s:.#\-]*)?(?:(?:là|la)[\s:]*)?$`)
)

// digitGroup is a run of digits in a text, with its digits in ASCII.
type digitGroup struct {
	start, end int
	digits     string
}

// FindPII returns the phone numbers, citizen ID numbers and e-mail addresses
// in s, in order, without overlaps.
func FindPII(s string) []PIIMatch {
	var out []PIIMatch
	emails := emailRE.FindAllStringIndex(s, -1)
	for _, e := range emails {
		out = append(out, PIIMatch{PIIEmail, e[0], e[1]})
	}
	groups := digitGroups(s)
	labels := idLabelRE.FindAllStringIndex(s, -1)
	// Per group, in one sweep each (the text may be long): inside an
	// e-mail address, or right after an ID label.
	inEmail := make([]bool, len(groups))
	afterLabel := make([]bool, len(groups))
	for g, e, l := 0, 0, 0; g < len(groups); g++ {
		pos := groups[g].start
		for e < len(emails) && emails[e][1] <= pos {
			e++
		}
		inEmail[g] = e < len(emails) && emails[e][0] <= pos
		for l+1 < len(labels) && labels[l+1][1] <= pos {
			l++
		}
		if l < len(labels) && labels[l][1] <= pos && pos-labels[l][1] <= 12 {
			afterLabel[g] = labelGapRE.MatchString(s[labels[l][1]:pos])
		}
	}
	// longest is the kind and last group of the longest number starting at
	// group i ("" if none).
	longest := func(i int) (string, int) {
		kind, last := "", -1
		if inEmail[i] {
			return "", -1
		}
		digits := ""
		for j := i; j < len(groups) && j < i+maxPhoneGroup; j++ {
			if j > i && (!separator(s[groups[j-1].end:groups[j].start]) || inEmail[j]) {
				break
			}
			digits += groups[j].digits
			if len(digits) > 14 {
				break
			}
			if k := classifyNumber(digits, groups[i:j+1], afterLabel[i]); k != "" {
				kind, last = k, j
			}
		}
		return kind, last
	}
	for i := 0; i < len(groups); {
		kind, last := longest(i)
		if kind == "" {
			i++
			continue
		}
		// A number that starts inside this one and reaches further is the
		// real one ("tổ 84 711 091-234-5678").
		if k := overtaken(i, last, longest); k > 0 {
			i = k
			continue
		}
		start, end := groups[i].start, groups[last].end
		if start > 0 && s[start-1] == '+' {
			start--
		}
		if start > 0 && s[start-1] == '(' && strings.Contains(s[start:end], ")") {
			start--
		}
		out = append(out, PIIMatch{kind, start, end})
		i = last + 1
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start < out[b].Start })
	return out
}

// overtaken returns the first group after i, up to last, where a number
// starts that ends after last (0 if none).
func overtaken(i, last int, longest func(int) (string, int)) int {
	for k := i + 1; k <= last; k++ {
		if kind, l := longest(k); kind != "" && l > last {
			return k
		}
	}
	return 0
}

// digitGroups finds the runs of digits of s (ASCII or full-width).
func digitGroups(s string) []digitGroup {
	var out []digitGroup
	var cur *digitGroup
	var b strings.Builder
	for i, r := range s {
		d := byte(0)
		switch {
		case r >= '0' && r <= '9':
			d = byte(r)
		case r >= '０' && r <= '９':
			d = byte('0' + r - '０')
		}
		if d == 0 {
			if cur != nil {
				cur.digits = b.String()
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if cur == nil {
			cur = &digitGroup{start: i}
			b.Reset()
		}
		b.WriteByte(d)
		cur.end = i + utf8.RuneLen(r)
	}
	if cur != nil {
		cur.digits = b.String()
		out = append(out, *cur)
	}
	return out
}

// separator reports whether sep may stand between two digit groups of one
// number: one or two of space, dot, dash and brackets ("0912 345 678",
// "0912.345.678", "(0234) 3822123", "+84-912-345-678").
func separator(sep string) bool {
	n := utf8.RuneCountInString(sep)
	if n == 0 || n > 2 || sep == ".." || sep == "--" {
		return false
	}
	for _, r := range sep {
		switch r {
		case ' ', '\u00a0', '.', '-', '(', ')':
		default:
			return false
		}
	}
	return true
}

// classifyNumber says what the digits of groups are: a phone number, a
// citizen ID number, or nothing ("").
func classifyNumber(d string, groups []digitGroup, label bool) string {
	if len(groups) > 1 {
		long := false
		for k, g := range groups {
			if k > 0 && len(g.digits) < 2 && !(k == 1 && g.digits == "0" && groups[0].digits == "84") {
				return "" // "0905 123 456 7": the 7 is something else ("+84 (0) 912…" is a phone)
			}
			long = long || len(g.digits) >= 3
		}
		if !long {
			return "" // "03 04 05 06 07" is a list, not a phone number
		}
	}
	if label && (len(d) == 9 || len(d) == 12) {
		return PIICitizenID
	}
	if len(d) == 12 && d[0] == '0' && citizenIDGrouping(groups) {
		return PIICitizenID
	}
	if phoneDigits(d) && (len(groups) == 1 || d[0] == '0' && d[1] != '0' || countryCode(groups[0].digits)) {
		return PIIPhone
	}
	return ""
}

// countryCode: written apart, the country code is 84 or 0084 ("+84 912…").
func countryCode(g string) bool { return g == "84" || g == "0084" }

// citizenIDGrouping: a CCCD is written in one run or in groups of 3 or 4.
func citizenIDGrouping(groups []digitGroup) bool {
	for _, g := range groups {
		if len(groups) > 1 && len(g.digits) != 3 && len(g.digits) != 4 {
			return false
		}
	}
	return true
}

// phoneDigits reports whether d is a Vietnamese phone number, national or
// with the country code.
func phoneDigits(d string) bool {
	switch {
	case strings.HasPrefix(d, "0084"):
		d = "0" + d[4:]
	case strings.HasPrefix(d, "840"):
		d = d[2:]
	case strings.HasPrefix(d, "84"):
		d = "0" + d[2:]
	}
	if len(d) < 10 || d[0] != '0' {
		return false
	}
	switch {
	case len(d) == 10 && strings.ContainsRune("35789", rune(d[1])):
		return true // mobile, and pre-2017 landlines (054 3822123)
	case len(d) == 11 && d[1] == '2':
		return true // landline: 02 + area code + number
	case len(d) == 11 && d[1] == '1':
		return true // mobile numbers before 2018 (0912… was 0123…)
	}
	return false
}

// ScrubPII removes the personal data FindPII finds in s, leaving a marker in
// place of each item, and counts what it removed.
func ScrubPII(s string) (string, Redaction) {
	ms := FindPII(s)
	if len(ms) == 0 {
		return s, Redaction{}
	}
	var b strings.Builder
	var r Redaction
	at := 0
	for _, m := range ms {
		if m.Start < at {
			continue
		}
		b.WriteString(s[at:m.Start])
		switch m.Kind {
		case PIIPhone:
			b.WriteString(MarkPhone)
			r.Phones++
		case PIICitizenID:
			b.WriteString(MarkCitizenID)
			r.CitizenIDs++
		case PIIEmail:
			b.WriteString(MarkEmail)
			r.Emails++
		}
		at = m.End
	}
	b.WriteString(s[at:])
	return b.String(), r
}

// CleanFreeText is the rule for every text a member or leader types about a
// citizen (assistance notes, verification answers, flag comments, privacy
// request notes): CleanText, then ScrubPII. Check its length afterwards.
func CleanFreeText(s string) (string, Redaction) {
	return ScrubPII(CleanText(s))
}
