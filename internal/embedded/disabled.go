//go:build noembedded

package embedded

import (
	"errors"
	"log/slog"
)

const available = false

// ErrNotBuiltIn answers Start in a binary built with the tag noembedded.
var ErrNotBuiltIn = errors.New("embedded: this cdt was built without the embedded database (tag noembedded): set CDT_MONGO_URI")

// Start refuses: the binary carries no embedded database.
func Start(dir, addr string, logger *slog.Logger) (*DB, error) { return nil, ErrNotBuiltIn }

// StartPostgreSQL refuses: the binary carries no embedded database.
func StartPostgreSQL(pgURL, addr string, logger *slog.Logger) (*DB, error) { return nil, ErrNotBuiltIn }

// StartPragmas refuses: the binary carries no embedded database.
func StartPragmas(dir, addr string, logger *slog.Logger, pragmas ...string) (*DB, error) {
	return nil, ErrNotBuiltIn
}
