package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sanad-id/sanad/internal/config"
)

// commonFlags are the flags every command that touches the deployment takes.
type commonFlags struct {
	configPath, addr, publicURL, dataDir, components string
	demo                                             bool
}

func newFlagSet(name string, out io.Writer, c *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("sanad "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.configPath, "config", "", "YAML configuration `file`")
	fs.StringVar(&c.dataDir, "data-dir", "", "data `directory` (default ./sanad-data)")
	fs.BoolVar(&c.demo, "demo", false, "seed demo data and generate missing development secrets")
	return fs
}

func (c *commonFlags) serveFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "", "listen `address` (default 127.0.0.1:8080)")
	fs.StringVar(&c.publicURL, "public-url", "", "externally visible base `URL` (default http://<addr>)")
	fs.StringVar(&c.components, "components", "", "comma-separated `list` of components to run: all, "+strings.Join(config.Components, ", "))
}

// load builds the configuration: defaults, YAML, environment, then the flags
// that were set.
func (c *commonFlags) load(fs *flag.FlagSet, environ []string) (config.Config, error) {
	cfg, err := config.Load(c.configPath, environ)
	if err != nil {
		return cfg, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = c.addr
		case "public-url":
			cfg.PublicURL = c.publicURL
		case "data-dir":
			cfg.DataDir = c.dataDir
		case "components":
			cfg.Components = splitList(c.components)
		case "demo":
			cfg.Demo = c.demo
		}
	})
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	if cfg.Demo {
		// Demo OTPs land in the development outbox unless a transport is set.
		if cfg.Notify.Email == "" {
			cfg.Notify.Email = "outbox"
		}
		if cfg.Notify.Phone == "" {
			cfg.Notify.Phone = "outbox"
		}
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return nil
}
