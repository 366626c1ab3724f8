package store

// SetWriteHook makes r call fn at each step of a registry write ("claimed",
// "versioned", "replaced"); an error from fn stops the write there, as a
// crash would, and a slow fn is a writer that stalls.
func SetWriteHook(r *Registries, fn func(step string) error) { r.hook = fn }

// StaleClaim is how old a claim is before another writer may skip it.
const StaleClaim = staleClaim
