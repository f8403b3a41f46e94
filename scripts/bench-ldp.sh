#!/usr/bin/env bash
# Measures ldp_vc issue and verify per core, Sanad (credential/ldp
# BenchmarkSign/BenchmarkVerify, one core: -cpu 1) and digitalbazaar
# (@digitalbazaar/vc issue/verifyCredential, one Node process: one core),
# on the same credentials in the same run, one after the other, and prints
# both with the ratio of CPU time per operation.
#
#   scripts/bench-ldp.sh [SECONDS]     (default 5 s per measurement)
#
# Needs the interop/ packages (npm ci there). The credentials are
# credential/ldp/testdata/bench-credential-v2.json (VCDM 2.0:
# eddsa-rdfc-2022, ecdsa-rdfc-2019 P-256) and bench-credential-v1.json
# (VCDM 1.1: Ed25519Signature2020).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
[ -d interop/node_modules ] || (cd interop && npm ci --no-audit --no-fund --silent)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), go $(go env GOVERSION), node $(node --version)"
go test -run '^$' -bench 'Benchmark(Sign|Verify)$' -benchtime "${secs}s" -cpu 1 ./credential/ldp >"$work/go.txt"
node scripts/bench-ldp.mjs -seconds "$secs" credential/ldp/testdata/bench-credential-v2.json \
  credential/ldp/testdata/bench-credential-v1.json >"$work/node.txt"
cat "$work/go.txt" "$work/node.txt"
echo
python3 - "$work/go.txt" "$work/node.txt" <<'PY'
import re, sys
go, node = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'Benchmark(Sign|Verify)/(\S+)\s+\d+\s+([\d.]+) ns/op.*?([\d.]+) cpu-ns/op', line)
    if m:
        op = 'issue' if m.group(1) == 'Sign' else 'verify'
        go[(op, m.group(2))] = float(m.group(4)) / 1e6
for line in open(sys.argv[2]):
    m = re.search(r'(issue|verify)\s+(\S+).*?([\d.]+) cpu ms/op', line)
    if m:
        node[(m.group(1), m.group(2))] = float(m.group(3))
print(f"{'operation':8} {'suite':24} {'Sanad CPU ms/op':>16} {'digitalbazaar CPU ms/op':>24} {'ratio':>7}")
for key in sorted(go):
    suite = key[1].replace('-P256', '')
    n = node.get((key[0], key[1])) or node.get((key[0], suite))
    ratio = f"{n / go[key]:.1f}x" if n else "n/a"
    print(f"{key[0]:8} {key[1]:24} {go[key]:16.3f} {n if n else float('nan'):24.3f} {ratio:>7}")
PY
