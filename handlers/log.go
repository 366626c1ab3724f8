package handlers

import "log/slog"

func levelOf(n int) slog.Level { return slog.Level(n) }
