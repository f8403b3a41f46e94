// Package templates holds the credential templates built into Sanad: one
// folder per credential configuration, each with a credential.yaml that
// issuer.LoadTemplates reads (README.md describes the format) and, for
// ldp_vc, the JSON-LD context files it names. They are data, embedded so
// that the binary issues the demo credentials with no templates folder on
// disk.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed */credential.yaml */*.jsonld
var files embed.FS

// FS returns the built-in templates, for issuer.LoadTemplates.
func FS() fs.FS { return files }
