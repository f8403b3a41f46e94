// Package templates holds the credential templates built into Sanad: one
// folder per credential configuration, each with a credential.yaml that
// issuer.LoadTemplates reads (README.md describes the format). They are
// data, embedded so that the binary issues the demo credentials with no
// templates folder on disk.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed */credential.yaml
var files embed.FS

// FS returns the built-in templates, for issuer.LoadTemplates.
func FS() fs.FS { return files }
