package app

import "github.com/hue-cdt/cdt/handlers/core"

// householdCare is what fulfils citizens' data requests: the record care of
// the consolidated state (nil until it exists: fulfilling answers 503).
func (a *App) householdCare() core.HouseholdCare { return nil }
