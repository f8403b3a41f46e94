package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestBenchCredentialAgainstServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, append([]string{"SANAD_ISSUER_RATE_LIMIT=-1"}, cleanEnv...), "--demo", "--data-dir", dir)
	tokenFile := filepath.Join(dir, "admin-token")
	for _, tt := range []struct {
		config string
		batch  int
	}{
		{"national-id-sd-jwt", 1},
		{"national-id-jwt-vc", 3},
	} {
		t.Run(tt.config, func(t *testing.T) {
			var out, errOut lockedBuffer
			e := env{stdout: &out, stderr: &errOut}
			args := []string{"--url", s.base, "--admin-token-file", tokenFile, "--config", tt.config,
				"--requests", "10", "--concurrency", "2", "--batch", strconv.Itoa(tt.batch)}
			o, err := parseCredentialBench(e, args)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := o.run(context.Background(), e)
			if err != nil {
				t.Fatalf("run: %v\n%s%s", err, out.String(), errOut.String())
			}
			if rep.Requests != 10 || rep.Credentials != 10*tt.batch || rep.Failed != 0 {
				t.Errorf("requests %d, credentials %d, failed %d; want 10, %d, 0\n%s", rep.Requests, rep.Credentials, rep.Failed, 10*tt.batch, out.String())
			}
			if !strings.Contains(out.String(), "errors: none") {
				t.Errorf("report:\n%s\nwant errors: none", out.String())
			}
		})
	}
}

func TestBenchCredentialFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"both ends", []string{"--requests", "5", "--duration", "1s"}, "not both"},
		{"batch", []string{"--batch", "0"}, "--batch"},
		{"concurrency", []string{"--concurrency", "0"}, "--concurrency"},
		{"no token", nil, "admin API token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut lockedBuffer
			args := tt.args
			if tt.want != "admin API token" {
				args = append(args, "--admin-token-file", filepath.Join("testdata", "missing"))
			}
			_, err := parseCredentialBench(env{stdout: &out, stderr: &errOut}, args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseCredentialBench(%v) = %v, want an error about %s", tt.args, err, tt.want)
			}
		})
	}
}
