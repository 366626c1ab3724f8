package handlers

import "github.com/hue-cdt/cdt/domain"

// Rule is the access rule of a route. Its gate, a domain.Scope method, runs
// before the handler and refuses a caller who may never use the route (403),
// whatever the resource; the handler then asks Scope about the one commune or
// resource the request names. The rule's name says which answer that is, and
// the route × role matrix (routes_test.go) checks every route against it.
type Rule struct {
	Name string
	// Public routes need no login; every other route runs its table's session
	// (a bearer token, or the pages' cookies) first: 401, or the login page.
	Public bool
	// Gate lets the caller through or answers its error; nil lets every
	// signed-in caller through.
	Gate func(domain.Scope) error
}

// The rules. A route names one of them in its table; a new kind of access is
// a new rule here, a Scope method in domain and a row of expectations in the
// matrix test.
var (
	// Public: anyone, signed in or not (sign-in, health, static files).
	Public = Rule{Name: "public", Public: true}
	// SignedIn: every login; what it answers is the caller's own, public, or
	// a list narrowed to what the caller may read, and no filter is refused
	// (the account, the catalogues, the reference units, the trainings).
	SignedIn = Rule{Name: "signed-in"}
	// InScope: every login; what it lists is narrowed to the caller's scope,
	// and a commune, team or member named in a filter outside it is 403
	// (Scope.FilterCommune, TeamFilter, Records, ReadTraining on lists).
	InScope = Rule{Name: "in-scope"}
	// ReadOne: every login; the one team, member, village or training named
	// in the path is 404 outside the caller's scope (Scope.ReadTeam,
	// ReadMember, ReadVillage, ReadTraining).
	ReadOne = Rule{Name: "read-one"}
	// Province: province admins only (Scope.Province); others 403.
	Province = Rule{Name: "province", Gate: domain.Scope.Province}
	// Managers: province admins and commune leaders (Scope.Manage); members
	// and team leaders 403. Nothing in the request is scoped further, or only
	// narrowed (Scope.Coverage, Scope.Users without a filter).
	Managers = Rule{Name: "managers", Gate: domain.Scope.Manage}
	// ManageCommune: managers, in a commune (path, filter or body) they
	// manage: another commune is 403 (Scope.ManageCommune, ReadCommune,
	// ManageUnit, Users).
	ManageCommune = Rule{Name: "manage-commune", Gate: domain.Scope.Manage}
	// ManageOne: managers, on one team, member, village, login or training of
	// their scope: another is 404 (Scope.ReadTeam, ReadMember, ReadVillage,
	// ManageLogin, ReadTraining), and a commune they do not manage 403.
	ManageOne = Rule{Name: "manage-one", Gate: domain.Scope.Manage}
	// Operations: no login; the handler admits only the operations' clients
	// (httpx.OperationsClient): the bearer CDT_METRICS_TOKEN when it is set,
	// else loopback clients that came through no proxy. Logins are no key:
	// every role is refused like anyone else.
	Operations = Rule{Name: "operations", Public: true}
	// Field: members and team leaders (Scope.Field), for the phone app and
	// logging assistance; leaders 403.
	Field = Rule{Name: "field", Gate: domain.Scope.Field}
)
