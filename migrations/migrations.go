// Package migrations embeds Vigil's SQL migrations: numbered files applied in order by
// the store's migrator (goose), after River's own migrations. Files are append-only:
// once released, a migration is never edited; a change is a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
