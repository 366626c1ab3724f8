package domain

import (
	"strconv"
	"strings"
	"time"
)

// Listed records: the compact form in which record lists (and deltas) keep a
// record, one string of about 90 bytes (130 with every stored field):
//
//	3|occurred ms|id|commune|team|village|service|outcome|recorded ms|gender|age|place|consent|household|by|skew|sent ms|delta|note
//
// Times are Unix milliseconds in base 36, padded to 9 digits so that the
// prefix "3|<occurred>|<id>" sorts like the records; catalogue codes are kept
// as their index, IDs without the commune they carry, the commune only when
// the member's ID does not name it. The note comes last and may hold "|".
// FerretDB writes and reads one string far faster than a sub-document (a
// type schema for every nested value).
const listedV3 = "3|"

// listedFields is the number of "|"-separated fields after the version, the
// note included.
const listedFields = 18

// Full says whether EncodeListed keeps every stored field (the household
// hash, the login that sent it, the device's clock, the delta) or only what a
// list shows.
type Full bool

// Encoding forms.
const (
	ListedShort Full = false
	ListedFull  Full = true
)

// EncodeListed encodes r (ListedFull keeps every stored field).
func EncodeListed(r Record, full Full) string {
	c := r.CommuneCode
	if c == CommuneOf(r.ID) {
		c = ""
	}
	var b strings.Builder
	b.Grow(160 + len(r.Note))
	b.WriteString(listedV3)
	b.WriteString(ms36(r.OccurredAt.UnixMilli()))
	for _, f := range []string{r.ID, c, local(r.TeamID, r.CommuneCode), local(r.VillageCode, r.CommuneCode),
		short(Services, r.Service), short(Outcomes, r.Outcome), ms36(r.RecordedAt.UnixMilli()), r.Gender,
		short(AgeGroups, r.AgeGroup), short(Places, r.Place), consentCode(r.Consent)} {
		b.WriteByte('|')
		b.WriteString(f)
	}
	if full {
		sent := ""
		if !r.SentOccurredAt.IsZero() {
			sent = ms36(r.SentOccurredAt.UnixMilli())
		}
		skew := ""
		if r.DeviceSkew != 0 {
			skew = strconv.FormatInt(r.DeviceSkew, 10)
		}
		for _, f := range []string{r.Household, r.By, skew, sent, r.Delta} {
			b.WriteByte('|')
			b.WriteString(f)
		}
	} else {
		b.WriteString("|||||")
	}
	b.WriteByte('|')
	b.WriteString(noteClean.Replace(r.Note))
	return b.String()
}

// ListSep separates encoded records where several are kept in one string
// (domain.EncodeListed never writes it, nor a line break).
const ListSep = "␞"

var noteClean = strings.NewReplacer("\n", " ", "\r", " ", ListSep, " ")

func ms36(ms int64) string {
	s := strconv.FormatInt(ms, 36)
	if len(s) < 9 {
		s = "000000000"[:9-len(s)] + s
	}
	return s
}

// DecodeListed reverses EncodeListed; ok is false for anything else.
func DecodeListed(s string) (Record, bool) {
	rest, ok := strings.CutPrefix(s, listedV3)
	if !ok {
		return Record{}, false
	}
	f := strings.SplitN(rest, "|", listedFields)
	if len(f) != listedFields {
		return Record{}, false
	}
	at, err1 := strconv.ParseInt(f[0], 36, 64)
	rec, err2 := strconv.ParseInt(f[7], 36, 64)
	if err1 != nil || err2 != nil {
		return Record{}, false
	}
	r := Record{ID: f[1], CommuneCode: f[2], OccurredAt: time.UnixMilli(at).UTC(), RecordedAt: time.UnixMilli(rec).UTC(),
		Gender: f[8], Consent: consentOf(f[11]), Household: f[12], By: f[13], Delta: f[16], Note: f[17]}
	r.MemberID, r.ClientID, _ = strings.Cut(r.ID, ":")
	if r.CommuneCode == "" {
		r.CommuneCode = CommuneOf(r.MemberID)
	}
	r.TeamID, r.VillageCode = global(f[3], r.CommuneCode), global(f[4], r.CommuneCode)
	r.Service, r.Outcome = long(Services, f[5]), long(Outcomes, f[6])
	r.AgeGroup, r.Place = long(AgeGroups, f[9]), long(Places, f[10])
	if f[14] != "" {
		r.DeviceSkew, _ = strconv.ParseInt(f[14], 10, 64)
	}
	if f[15] != "" {
		if sent, err := strconv.ParseInt(f[15], 36, 64); err == nil {
			r.SentOccurredAt = time.UnixMilli(sent).UTC()
		}
	}
	r.Day = DateOf(r.OccurredAt)
	return r, true
}

// listedField returns the index in s of the separator that ends field n
// (0 is occurred ms) of an encoding, or -1.
func listedField(s string, n int) int {
	seen := -1
	for i := len(listedV3); i < len(s); i++ {
		if s[i] == '|' {
			if seen++; seen == n {
				return i
			}
		}
	}
	return -1
}

// ShortListed turns a record encoded with every field into the encoding of
// the lists that keep only what they show, without decoding it.
func ShortListed(s string) (string, bool) {
	a, b := listedField(s, 11), listedField(s, 16)
	if a < 0 || b < 0 {
		return "", false
	}
	return s[:a] + "||||||" + s[b+1:], true
}

// ListedOwner reads the member, team and commune of an encoded record
// without decoding the rest.
func ListedOwner(s string) (member, team, commune string, ok bool) {
	a, b, c, d := listedField(s, 0), listedField(s, 1), listedField(s, 2), listedField(s, 3)
	if a < 0 || b < 0 || c < 0 || d < 0 {
		return "", "", "", false
	}
	id, commune := s[a+1:b], s[b+1:c]
	member, _, _ = strings.Cut(id, ":")
	if commune == "" {
		commune = CommuneOf(member)
	}
	return member, global(s[c+1:d], commune), commune, true
}

// Pos is where a record sits in a list: lists run newest first, by the time
// it occurred and then by ID.
type Pos struct {
	At int64 // occurred_at, Unix milliseconds
	ID string
}

// PosOf is the position of r.
func PosOf(r Record) Pos { return Pos{At: r.OccurredAt.UnixMilli(), ID: r.ID} }

// Before reports whether p comes after q in a list (p is older).
func (p Pos) Before(q Pos) bool { return p.At < q.At || p.At == q.At && p.ID < q.ID }

// ListedPos reads the position of an encoded record without decoding the rest.
func ListedPos(s string) (Pos, bool) {
	rest, ok := strings.CutPrefix(s, listedV3)
	if !ok || len(rest) < 11 || rest[9] != '|' {
		return Pos{}, false
	}
	at, err := strconv.ParseInt(rest[:9], 36, 64)
	if err != nil {
		return Pos{}, false
	}
	id, _, _ := strings.Cut(rest[10:], "|")
	return Pos{At: at, ID: id}, true
}

// SortKey is the cursor form of a position (Record.SortKey).
func (p Pos) SortKey() string {
	return time.UnixMilli(p.At).UTC().Format(sortKeyTime) + "|" + p.ID
}

const sortKeyTime = "20060102T150405.000"

// ParseSortKey reads a cursor made by SortKey.
func ParseSortKey(k string) (Pos, bool) {
	ts, id, ok := strings.Cut(k, "|")
	t, err := time.Parse(sortKeyTime, ts)
	if !ok || err != nil || id == "" {
		return Pos{}, false
	}
	return Pos{At: t.UnixMilli(), ID: id}, true
}

// consentCode keeps the citizen's choice in one letter; unrecorded (the
// records of v1 clients) is the empty field.
func consentCode(c string) string {
	switch c {
	case ConsentGiven:
		return "g"
	case ConsentRefused:
		return "r"
	}
	return ""
}

func consentOf(code string) string {
	switch code {
	case "g":
		return ConsentGiven
	case "r":
		return ConsentRefused
	}
	return ConsentUnrecorded
}

// local drops the commune prefix of an ID ("19753-T012" → "T012").
func local(id, commune string) string {
	if rest, ok := strings.CutPrefix(id, commune+"-"); ok && commune != "" {
		return rest
	}
	return "=" + id
}

func global(id, commune string) string {
	if rest, ok := strings.CutPrefix(id, "="); ok {
		return rest
	}
	return commune + "-" + id
}

// short writes a catalogue code as its index (one letter), anything else as
// "=" and itself.
func short(codes []string, v string) string {
	for i, c := range codes {
		if c == v && i < 26 {
			return string(rune('a' + i))
		}
	}
	return "=" + v
}

func long(codes []string, v string) string {
	if rest, ok := strings.CutPrefix(v, "="); ok {
		return rest
	}
	if len(v) == 1 && v[0] >= 'a' && int(v[0]-'a') < len(codes) {
		return codes[v[0]-'a']
	}
	return v
}
