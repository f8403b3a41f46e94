package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sanad-id/sanad/internal/config"
)

// No Docker engine runs here, so compose.yaml is loaded and checked with the
// Compose specification's own Go loader, and against Sanad's configuration.
func loadCompose(t *testing.T, env []string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(env), cli.WithName("sanad"))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

var composeEnv = []string{
	"POSTGRES_PASSWORD=pw", "SANAD_MASTER_KEY=" + strings.Repeat("A", 43) + "=",
	"SANAD_ADMIN_TOKEN=" + strings.Repeat("t", 40),
}

func TestComposeFileIsValid(t *testing.T) {
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatalf("loading compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "redis", "migrate", "idrepo", "oidc", "issuer", "verifier"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("compose.yaml lacks service %q", name)
		}
	}
	var covered []string
	for name, svc := range p.Services {
		if name == "postgres" || name == "redis" {
			if svc.HealthCheck == nil || len(svc.HealthCheck.Test) == 0 {
				t.Errorf("service %s has no health check", name)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			if svc.Build == nil || svc.Build.Dockerfile != "Dockerfile" {
				t.Errorf("service %s is not built from the repository's Dockerfile", name)
			}
			// Every SANAD_* variable must be one Sanad reads: an unknown
			// one would stop the service at start-up.
			for k := range svc.Environment {
				if strings.HasPrefix(k, config.EnvPrefix) && !slices.Contains(config.EnvNames(), k) {
					t.Errorf("service %s sets %s, which Sanad does not read", name, k)
				}
			}
			if v := svc.Environment["SANAD_STORAGE_DRIVER"]; v == nil || *v != "postgres" {
				t.Errorf("service %s: SANAD_STORAGE_DRIVER = %v, want postgres", name, v)
			}
			if v := svc.Environment["SANAD_STATE_DRIVER"]; v == nil || *v != "redis" {
				t.Errorf("service %s: SANAD_STATE_DRIVER = %v, want redis", name, v)
			}
			cmd := []string(svc.Command)
			if len(cmd) == 0 {
				t.Fatalf("service %s has no command", name)
			}
			if cmd[0] == "serve" {
				i := slices.Index(cmd, "--components")
				if i < 0 || i+1 >= len(cmd) {
					t.Fatalf("service %s serves without --components", name)
				}
				for _, c := range splitList(cmd[i+1]) {
					if !slices.Contains(config.Components, c) {
						t.Errorf("service %s runs unknown component %q", name, c)
					}
					covered = append(covered, c)
				}
				if _, ok := svc.DependsOn["migrate"]; !ok {
					t.Errorf("service %s does not wait for migrate", name)
				}
			}
		})
	}
	for _, c := range config.Components {
		if !slices.Contains(covered, c) {
			t.Errorf("no compose service runs component %q", c)
		}
	}
}

func TestComposeRefusesMissingSecrets(t *testing.T) {
	_, err := loadCompose(t, []string{"POSTGRES_PASSWORD=pw"})
	if err == nil || !strings.Contains(err.Error(), "SANAD_MASTER_KEY") {
		t.Fatalf("loading compose.yaml without SANAD_MASTER_KEY: err = %v, want it named", err)
	}
}

func TestDockerfileIsStaticAndNonRoot(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", "AS build", "COPY --from=build"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Count(df, "\nFROM ") < 2 {
		t.Error("Dockerfile is not multi-stage")
	}
}
