#!/bin/bash
# Benchmarks/ci-smoke.sh - keep the benchmark harness from rotting (called by .ci/run).
#
# Runs Benchmarks/run.sh at a tiny size and checks that it ran: it exits 0, it prints its
# closing line, the table has the rows of every group with numbers in them, and no
# cgdoctor-test-bench state is left in the kernel. It asserts nothing about times: CI machines
# are shared and noisy; BENCHMARKS.md holds the measured numbers.
#
# Sizes can be raised through the environment (SMOKE_PROCS, SMOKE_MOUNTS, SMOKE_NAMESPACES).
# Needs root. The Go rows need golang-go, golang-github-moby-sys-dev and
# golang-github-containerd-cgroups-dev; without them they are reported as "not built" and
# this script warns instead of failing.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE/.out/ci-smoke
rm -rf "$OUT"
mkdir -p "$OUT"
fail() { echo "ci-smoke: FAIL: $*" >&2; exit 1; }

log=$OUT/run.log
"$HERE/run.sh" --out "$OUT" --procs "${SMOKE_PROCS:-120}" --mounts "${SMOKE_MOUNTS:-300}" \
  --namespaces "${SMOKE_NAMESPACES:-3}" --runs 2 --warmup 0 --parse-iters 5 > "$log" 2>&1
rc=$?
tail -n 40 "$log"
[ $rc = 0 ] || fail "run.sh exited $rc (log: $log)"
grep -qE '^benchmark: table written \([0-9]+ rows\)' "$log" || fail "no closing line"

table=$OUT/table.md
[ -s "$table" ] || fail "no table at $table"
head -1 "$table" | grep -q '^| tool | work | wall median ms | cpu ms | peak RSS MiB | ratio to C' || fail "table header changed"
rows=$(grep -c '^| [^-]' "$table")
[ "$rows" -ge 19 ] || fail "table has $(( rows - 1 )) rows, expected at least 18"

# every group has its C reference and its cgdoctor (or library) row, measured
row() { grep -F "| $1 | $2" "$table" | head -1; }
numeric() { awk -F'|' '{ gsub(/ /, "", $4); exit !($4 ~ /^[0-9]+\.[0-9]+$/) }' <<<"$1"; }
for spec in "C reference (read+tokenize)|whole node (host" "cgdoctor check|whole node (host" \
            "C reference (read+tokenize)|paths of this script" "cgdoctor paths PID|paths of this script" \
            "C reference (read+tokenize)|whole node (" "cgdoctor check|whole node (" \
            "cgdoctor paths PID|paths of a pod process" "C reference (read+tokenize)|live mountinfo" \
            "CgroupFormats MountTable.parse (read + tokenize)|live mountinfo" "findmnt --raw|live mountinfo" "findmnt -J|live mountinfo" \
            "C tokenizer|parse only" "CgroupFormats MountTable.parse (tokenizer)|parse only" "CgroupFormats MountInfo.parse (.all, materialised)|parse only"; do
  r=$(row "${spec%%|*}" "${spec#*|}")
  [ -n "$r" ] || fail "missing row: $spec"
  numeric "$r" || fail "row not measured: $r"
done
grep -F '| Go ' "$table" | grep -q 'not built' && echo "ci-smoke: warning: Go peers not built (install golang-go golang-github-moby-sys-dev golang-github-containerd-cgroups-dev)"

# nothing left behind
left=$(find /sys/fs/cgroup -maxdepth 2 -name 'cgdoctor-test-bench-*' 2>/dev/null; grep -F cgdoctor-test-bench /proc/self/mountinfo; ls -d /tmp/cgdoctor-test-bench-* 2>/dev/null)
[ -z "$left" ] || fail "kernel state left behind: $left"
echo "ci-smoke: benchmark harness ran, table has $(( rows - 1 )) rows, nothing left behind"
