// Package frontend embeds the built web UI (React + TypeScript + Vite, built into
// frontend/dist by `make frontend`). The Go build works without it: Assets then holds
// no index.html and the server shows how to build the UI.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built UI rooted at its index.html, and whether one was built.
func Assets() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, false
	}
	_, err = fs.Stat(sub, "index.html")
	return sub, err == nil
}
