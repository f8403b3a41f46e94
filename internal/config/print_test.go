package config

import "fmt"

// fmtAll prints c every way fmt can.
func fmtAll(c Config) string { return fmt.Sprintf("%v\n%+v\n%#v", c, c, c) }
