package oidc

// Temporary stubs while the provider is being written; each disappears as
// its real implementation lands.

import (
	"errors"
)

var _ = errors.New

// Owned by the login pages (pages.go) and the UI API (uiapi.go).
