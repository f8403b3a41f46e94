// Command sanad runs Sanad: `sanad serve` starts every component (or a subset)
// on one port; `sanad migrate`, `sanad keys`, `sanad version` and
// `sanad healthcheck` are the operator's tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// env is what a command sees of the process: arguments, output, environment.
type env struct {
	stdout, stderr io.Writer
	environ        []string
}

const usage = `sanad: a digital-identity platform

Usage:
  sanad serve [flags]                 run the components (see sanad serve -h)
  sanad migrate [flags]               apply database migrations
  sanad keys list [flags]             list keys
  sanad keys rotate --purpose P       add new keys; old public keys stay published
  sanad residents import FILE         import residents (CSV or JSON lines)
  sanad clients SUBCOMMAND            relying-party clients: add, list, show, disable, enable, delete
  sanad audit verify                  check the audit log's hash chain
  sanad credential verify FILE|-      verify a credential (ldp_vc, jwt_vc_json, SD-JWT VC)
  sanad bench idrepo [flags]          load-test the ID repository (writes synthetic residents)
  sanad bench login [flags]           load-test OpenID sign-ins against a running server
  sanad version                       print the version
  sanad healthcheck --url URL         exit 0 if URL answers 200
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	e := env{stdout: stdout, stderr: stderr, environ: environ}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, e, args[1:])
	case "migrate":
		err = migrate(ctx, e, args[1:])
	case "keys":
		err = keysCommand(ctx, e, args[1:])
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "sanad", versionString())
		return 0
	case "healthcheck":
		err = healthcheck(ctx, e, args[1:])
	case "residents":
		err = residentsCommand(ctx, e, args[1:])
	case "clients":
		err = clientsCommand(ctx, e, args[1:])
	case "audit":
		err = auditCommand(ctx, e, args[1:])
	case "credential":
		err = credentialCommand(ctx, e, args[1:])
	case "bench":
		err = benchCommand(ctx, e, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sanad: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "sanad %s: %v\n", args[0], err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "sanad %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ error }

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
