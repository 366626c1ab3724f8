package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/refdata"
)

// userAdd creates a login from the command line. With the embedded database it
// must run while no server owns the data directory, or with CDT_MONGO_URI set to
// the URI a running server logged ("embedded database uri=...").
func userAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("user add", stderr)
	config := configFlags(fs, getenv)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "", "member, team_leader, commune_leader or province_admin")
	unit := fs.String("unit", "", "unit code (commune; the province for province_admin; defaults from --member)")
	member := fs.String("member", "", "member ID, for member and team_leader")
	_ = fs.Bool("password-stdin", true, "read the password from the first line of stdin (the default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" || *role == "" {
		return errors.New("--username and --role are required")
	}
	u := *unit
	switch {
	case u == "" && domain.Role(*role) == domain.RoleProvinceAdmin:
		u = refdata.ProvinceCode
	case u == "" && *member != "":
		u = domain.CommuneOf(*member)
	}
	fmt.Fprintln(stderr, "password (one line on stdin):")
	pw, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	pw = strings.TrimRight(pw, "\r\n")
	a, _, err := openTool(ctx, config, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	if err := a.CreateUser(ctx, *username, pw, domain.Role(*role), u, *member, "cli"); err != nil {
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("login not created: %v", ve)
		}
		if errors.Is(err, domain.ErrConflict) {
			return fmt.Errorf("login not created: %q already exists", *username)
		}
		return err
	}
	fmt.Fprintf(stdout, "created login %s (%s, unit %s)\n", domain.NormalizeUsername(*username), *role, u)
	return nil
}
