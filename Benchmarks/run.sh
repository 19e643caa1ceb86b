#!/bin/bash
# Benchmarks/run.sh - the one command of issue 4: build every program, stage a big node, time
# cgdoctor against a C reference, findmnt and Go peers, tear the node down, print one table.
#
#   Benchmarks/run.sh [--procs N] [--mounts N] [--namespaces N] [--runs N] [--warmup N]
#                     [--parse-iters N] [--small] [--out DIR] [--no-build] [--exec CMD]
#
# Defaults: 10000 processes, 10000 mounts, 200 pod mount namespaces, 10 runs after 2 warm-ups.
# --small (or CGDOCTOR_BENCH_SMALL=1): 300 processes, 500 mounts, 5 namespaces, 3 runs: for CI.
# --exec CMD: stage the node, run `bash -c CMD` inside it (e.g. a profiler) instead of the
#   measurements, tear down. $CGDOCTOR is the binary, $CGDOCTOR_BENCH_BIN holds the C and Go
#   programs, $CGDOCTOR_BENCH_PID names a pod process for `paths`.
# Needs root, gcc, swift, util-linux (unshare, findmnt); go + golang-github-moby-sys-dev +
# golang-github-containerd-cgroups-dev for the Go rows (skipped, and said so, when missing).
#
# Kernel state: every name made here starts with cgdoctor-test-bench-<pid of this script>.
# Mounts exist only inside `unshare -m --propagation private` and die with it; processes and
# cgroups (v1 cpu, cpuacct, cpuset, devices, freezer, blkio, pids only: never memory, never
# name=systemd) are removed by the spawner, and again by the trap below if anything went wrong.
# Exit status: 0 when the table was written and teardown verified clean; 1 if staging, a
# measurement or teardown failed; 2 on bad usage or missing prerequisites.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")

# ------------------------------------------------------------------------------------ options
small() { PROCS=300 MOUNTS=500 NAMESPACES=5 RUNS=3 WARMUP=1 PARSE_ITERS=20; }
if [ "${1:-}" != __inner ]; then  # (the inner half gets every setting from the outer's environment)
  PROCS=10000 MOUNTS=10000 NAMESPACES=200 RUNS=10 WARMUP=2 PARSE_ITERS=50 BUILD=1 EXEC=""
  OUT=${CGDOCTOR_BENCH_OUT:-$HERE/.out}
  [ "${CGDOCTOR_BENCH_SMALL:-0}" = 1 ] && small
  while [ $# -gt 0 ]; do
    case "$1" in
      --procs) PROCS=$2; shift 2 ;;
      --mounts) MOUNTS=$2; shift 2 ;;
      --namespaces) NAMESPACES=$2; shift 2 ;;
      --runs) RUNS=$2; shift 2 ;;
      --warmup) WARMUP=$2; shift 2 ;;
      --parse-iters) PARSE_ITERS=$2; shift 2 ;;
      --small) small; shift ;;
      --out) OUT=$2; shift 2 ;;
      --no-build) BUILD=0; shift ;;
      --exec) EXEC=$2; shift 2 ;;
      -h|--help) sed -n '2,20p' "$SELF"; exit 0 ;;
      *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
  done
  for v in PROCS MOUNTS NAMESPACES RUNS WARMUP PARSE_ITERS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --${v,,} needs a number" >&2; exit 2; }
  done
  [ "$RUNS" -ge 1 ] || RUNS=1
fi

BIN=$OUT/bin
TAG=${CGDOCTOR_BENCH_TAG:-$$}
BASE=/tmp/cgdoctor-test-bench-$TAG
RESULTS=$OUT/results.tsv     # group, tool, work, wall, wall_min, cpu, rss, runs, codes, note
CGDOCTOR=$ROOT/.build-bench/release/cgdoctor
SWPARSE=$HERE/.build-bench/release/cgdoctor-bench-parse
log() { echo "[bench $(date +%T)] $*" >&2; }

# ------------------------------------------------------------------------------------ measuring
# measure GROUP TOOL WORK OKCODES CMD... : queue a whole-process measurement; `flush` runs the
# queued commands of a group interleaved (round-robin) through the runner, so load from other
# work on the machine falls on all of them alike. MAXRUNS=N caps the runs of a slow command.
Q_META=() Q_CMDS=()
measure() {
  local group=$1 tool=$2 work=$3 ok=$4; shift 4
  if ! command -v "$1" >/dev/null 2>&1; then
    Q_META+=("$group"$'\t'"$tool"$'\t'"$work"$'\t'NOTBUILT); return 0
  fi
  local cap=""
  [ -n "${MAXRUNS:-}" ] && cap="@$MAXRUNS "
  Q_META+=("$group"$'\t'"$tool"$'\t'"$work"$'\t'"$ok")
  Q_CMDS+=("$cap$(printf '%q ' "$@")")
}
flush() {
  [ ${#Q_META[@]} -gt 0 ] || return 0
  local args=() i j=0 line out=$OUT/run codes note group tool work ok
  for i in "${!Q_CMDS[@]}"; do
    [ "$i" -gt 0 ] && args+=(";;")
    eval "args+=(${Q_CMDS[$i]})"
  done
  local lines="" k
  if [ ${#args[@]} -gt 0 ]; then
    lines=$("$BIN/cgdoctor-bench-run" "$WARMUP" "$RUNS" "$out" -- "${args[@]}") || log "runner: a run was killed or could not start"
  fi
  for i in "${!Q_META[@]}"; do
    IFS=$'\t' read -r group tool work ok <<<"${Q_META[$i]}"
    if [ "$ok" = NOTBUILT ]; then
      printf '%s\t%s\t%s\t-\t-\t-\t-\t0\t-\tnot built\n' "$group" "$tool" "$work" >> "$RESULTS"; continue
    fi
    line=$(sed -n "$((j + 1))p" <<<"$lines")
    k=$j; j=$((j + 1))
    codes=$(cut -f6 <<<"$line"); note=""
    for c in ${codes//,/ }; do [[ ",$ok," == *",$c,"* ]] || note="FAILED: exit $c: $(head -c 160 "$out.$i.err" 2>/dev/null | tr '\n\t' '  ')"; done
    [ -z "$line" ] && note="FAILED: runner"
    [ -z "$note" ] && note=$(head -1 "$out.$k" | cut -c1-110 | tr '\t' ' ')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$tool" "$work" "$(cut -f1 <<<"$line")" \
      "$(cut -f2 <<<"$line")" "$(cut -f3 <<<"$line")" "$(cut -f4 <<<"$line")" "$(cut -f5 <<<"$line")" "$codes" "$note" >> "$RESULTS"
    [[ $note == FAILED* ]] && log "$tool ($work): $note"
  done
  Q_META=() Q_CMDS=()
  return 0
}

# measure_inproc GROUP TOOL WORK CMD... : the program times its own loop (parse_median_ms,
# parse_cpu_ms); one run through the runner gives its peak RSS.
measure_inproc() {
  local group=$1 tool=$2 work=$3; shift 3
  local out=$OUT/last.out line
  if ! command -v "$1" >/dev/null 2>&1; then
    printf '%s\t%s\t%s\t-\t-\t-\t-\t0\t-\tnot built\n' "$group" "$tool" "$work" >> "$RESULTS"; return 0
  fi
  line=$("$BIN/cgdoctor-bench-run" 0 1 "$OUT/inproc" -- "$@") || true
  out=$OUT/inproc.0
  local med cpu note
  med=$(grep -o 'parse_median_ms=[0-9.]*' "$out" | cut -d= -f2)
  cpu=$(grep -o 'parse_cpu_ms=[0-9.]*' "$out" | cut -d= -f2)
  note=$(grep -o 'iters=.*' "$out" | cut -c1-110)
  if [ -z "$med" ]; then med=-; cpu=-; note="FAILED: $(head -c 160 "$out.err" | tr '\n\t' '  ')"; log "$tool: $note"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$tool" "$work" "$med" "$med" "$cpu" \
    "$(cut -f4 <<<"$line")" "$(grep -o 'iters=[0-9]*' "$out" | cut -d= -f2)" "$(cut -f6 <<<"$line")" "$note" >> "$RESULTS"
}

# ------------------------------------------------------------------------------------ inner
# Runs in the private mount namespace: stage, measure the big node, tear the processes down.
if [ "${1:-}" = __inner ]; then
  set -u
  SPAWN_PID=""
  stop_spawner() {
    if [ -n "$SPAWN_PID" ]; then
      kill -TERM "$SPAWN_PID" 2>/dev/null
      wait "$SPAWN_PID"; local rc=$?
      SPAWN_PID=""
      return $rc
    fi
    return 0
  }
  echo $$ > "$OUT/inner.pid"   # our process group (setsid made us its leader)
  trap 'stop_spawner' EXIT
  trap 'exit 130' INT TERM HUP
  mount -t tmpfs -o size=1g,mode=755 cgdoctor-test-bench "$BASE" || { log "cannot mount scratch tmpfs on $BASE"; exit 1; }
  mount --make-shared "$BASE" || exit 1
  mkdir -p "$BASE/node"
  log "staging $MOUNTS mounts"
  t0=$(date +%s.%N)
  "$BIN/cgdoctor-bench-mktable" "$MOUNTS" "$BASE/node" || { log "mount staging failed"; exit 1; }
  log "mount table: $(wc -l < /proc/self/mountinfo) lines, $(wc -c < /proc/self/mountinfo) bytes ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
  MI=$OUT/mountinfo-$MOUNTS.txt
  cat /proc/self/mountinfo > "$MI"   # the parse-only input: this namespace's table, in a regular file

  log "staging $PROCS processes, $NAMESPACES pod mount namespaces"
  rm -f "$BASE/ready"
  "$BIN/cgdoctor-bench-spawn" run "$TAG" "$PROCS" "$NAMESPACES" "$BASE" "$BASE/ready" 2> "$OUT/spawn.log" &
  SPAWN_PID=$!
  for _ in $(seq 6000); do
    [ -s "$BASE/ready" ] && break
    kill -0 "$SPAWN_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$BASE/ready" ]; then
    log "process staging failed: $(tail -3 "$OUT/spawn.log")"
    stop_spawner; exit 1
  fi
  log "$(cat "$BASE/ready")"
  NODE="$PROCS procs, $MOUNTS mounts, $NAMESPACES ns"
  G=node-big

  # a process of an ordinary container (in this namespace, not one with its own table)
  PID=""
  for h in pids cpu cpuacct freezer devices blkio cpuset; do
    d=/sys/fs/cgroup/$h/cgdoctor-test-bench-$TAG
    [ -d "$d" ] || continue
    me=$(readlink /proc/self/ns/mnt)
    for f in $(find "$d" -mindepth 4 -name cgroup.procs | sort | tail -n 20); do
      p=$(head -1 "$f"); [ -n "$p" ] && [ "$(readlink "/proc/$p/ns/mnt")" = "$me" ] && { PID=$p; break; }
    done
    break
  done
  [ -n "$PID" ] || PID=$$
  "$BIN/cgdoctor-bench-kread" node > "$OUT/node-state.txt"
  log "node as seen by the C reference: $(cat "$OUT/node-state.txt"); paths pid $PID"

  if [ -n "$EXEC" ]; then
    CGDOCTOR=$CGDOCTOR CGDOCTOR_BENCH_BIN=$BIN CGDOCTOR_BENCH_PID=$PID bash -c "$EXEC"; xrc=$?
    log "--exec command exited $xrc; tearing down"
    stop_spawner; rc=$?; trap - EXIT
    [ $xrc = 0 ] && exit $rc || exit 1
  fi
  measure "$G" "C reference (read+tokenize)" "whole node ($NODE)" 0 "$BIN/cgdoctor-bench-kread" node
  measure "$G" "cgdoctor check" "whole node ($NODE)" 0,1 "$CGDOCTOR" check
  measure "$G" "cgdoctor check --format json" "whole node ($NODE)" 0,1 "$CGDOCTOR" check --format json
  measure "$G" "Go containerd/cgroups + moby/sys" "whole node ($NODE)" 0 "$BIN/cgdoctor-bench-go" node
  flush

  G=paths-big
  measure "$G" "C reference (read+tokenize)" "paths of a pod process (big node)" 0,1 "$BIN/cgdoctor-bench-kread" paths "$PID"
  measure "$G" "cgdoctor paths PID" "paths of a pod process (big node)" 0,1 "$CGDOCTOR" paths "$PID"
  measure "$G" "Go containerd/cgroups v1 PidPath" "paths of a pod process (big node)" 0,1 "$BIN/cgdoctor-bench-go" paths "$PID"
  flush

  G=mounts-big
  W="live mountinfo ($(wc -l < "$MI") lines)"
  measure "$G" "C reference (read+tokenize)" "$W" 0 "$BIN/cgdoctor-bench-kread" mounts
  measure "$G" "CgroupFormats MountTable.parse (read + tokenize)" "$W" 0 "$SWPARSE" mounts
  measure "$G" "findmnt --raw" "$W" 0 findmnt --raw
  MAXRUNS=$(( RUNS / 3 > 2 ? RUNS / 3 : 2 )) measure "$G" "findmnt -J" "$W" 0 findmnt -J
  measure "$G" "Go moby/sys mountinfo.GetMounts" "$W" 0 "$BIN/cgdoctor-bench-go" mounts
  flush

  G=parse
  W="parse only, $(wc -l < "$MI") lines in memory"
  measure_inproc "$G" "C tokenizer" "$W" "$BIN/cgdoctor-bench-kread" parse "$MI" "$PARSE_ITERS"
  measure_inproc "$G" "CgroupFormats MountTable.parse (tokenizer)" "$W" "$SWPARSE" table "$MI" "$PARSE_ITERS"
  measure_inproc "$G" "CgroupFormats MountInfo.parse (.all, materialised)" "$W" "$SWPARSE" parse "$MI" "$PARSE_ITERS"
  measure_inproc "$G" "Go moby/sys GetMountsFromReader" "$W" "$BIN/cgdoctor-bench-go" parse "$MI" "$PARSE_ITERS"

  log "tearing down processes and cgroups"
  stop_spawner; rc=$?
  log "$(tail -1 "$OUT/spawn.log")"
  trap - EXIT
  exit $rc
fi

# ------------------------------------------------------------------------------------ outer
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (mount namespaces, cgroups)" >&2; exit 2; }
for t in gcc unshare setsid findmnt mount; do command -v $t >/dev/null || { echo "run.sh: missing $t" >&2; exit 2; }; done
mkdir -p "$BIN"
: > "$RESULTS"

if [ "$BUILD" = 1 ]; then
  log "building C programs"
  for p in mktable:mktable spawn:spawn kread:kread benchrun:run; do
    gcc -O2 -Wall -o "$BIN/cgdoctor-bench-${p#*:}" "$HERE/c/${p%%:*}.c" || { log "gcc failed: ${p%%:*}.c"; exit 1; }
  done
  if command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/moby/sys/mountinfo ] \
     && [ -d /usr/share/gocode/src/github.com/containerd/cgroups ]; then
    log "building Go peers (GOPATH mode, offline)"
    (cd "$HERE/go/cgdoctor-bench-go" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
      GOCACHE="$OUT/gocache" go build -o "$BIN/cgdoctor-bench-go" .) || { log "go build failed: Go rows skipped"; rm -f "$BIN/cgdoctor-bench-go"; }
  else
    log "go or golang-github-moby-sys-dev / golang-github-containerd-cgroups-dev missing: Go rows skipped"
    rm -f "$BIN/cgdoctor-bench-go"
  fi
  log "building cgdoctor (swift build -c release --static-swift-stdlib --scratch-path .build-bench)"
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path .build-bench --product cgdoctor) \
    > "$OUT/build-cgdoctor.log" 2>&1 || { log "cgdoctor did not build (see $OUT/build-cgdoctor.log): its rows say so"; rm -f "$CGDOCTOR"; }
  log "building cgdoctor-bench-parse (Benchmarks/Package.swift)"
  [ -f "$HERE/Package.resolved" ] || { [ -f "$ROOT/Package.resolved" ] && cp "$ROOT/Package.resolved" "$HERE/Package.resolved"; }
  (cd "$HERE" && swift build -c release --static-swift-stdlib --scratch-path .build-bench --product cgdoctor-bench-parse) \
    > "$OUT/build-parse.log" 2>&1 || { log "cgdoctor-bench-parse did not build (see $OUT/build-parse.log)"; rm -f "$SWPARSE"; }
fi
for p in mktable spawn kread run; do [ -x "$BIN/cgdoctor-bench-$p" ] || { log "missing $BIN/cgdoctor-bench-$p (build first)"; exit 2; }; done

STATUS=0
read -r LOAD0 _ < /proc/loadavg   # before we add anything: staging 10k processes raises the load itself
cleanup() {
  local left
  "$BIN/cgdoctor-bench-spawn" cleanup "$TAG" || true
  [ -d "$BASE" ] && ! grep -q " $BASE " /proc/self/mountinfo && rmdir "$BASE" 2>/dev/null
  left=$(find /sys/fs/cgroup -maxdepth 2 -name "cgdoctor-test-bench-$TAG" 2>/dev/null; grep -F "cgdoctor-test-bench-$TAG" /proc/self/mountinfo; [ -e "$BASE" ] && echo "$BASE")
  if [ -n "$left" ]; then log "TEARDOWN INCOMPLETE: $left"; return 1; fi
  return 0
}
trap 'cleanup; exit 130' INT TERM HUP
"$BIN/cgdoctor-bench-spawn" cleanup-stale || log "stale cgdoctor-test-bench cgroups of an earlier run could not all be removed"

# -- small node: the host as it is (laptop-sized), before anything is staged
if [ -z "$EXEC" ]; then
HOSTP=$(ls /proc | grep -c '^[0-9]') HOSTM=$(wc -l < /proc/self/mountinfo)
log "small node: the host as it is ($HOSTP procs, $HOSTM mounts)"
W="whole node (host: $HOSTP procs, $HOSTM mounts)"
measure node-small "C reference (read+tokenize)" "$W" 0 "$BIN/cgdoctor-bench-kread" node
measure node-small "cgdoctor check" "$W" 0,1 "$CGDOCTOR" check
measure node-small "Go containerd/cgroups + moby/sys" "$W" 0 "$BIN/cgdoctor-bench-go" node
flush
W="paths of this script (host)"
measure paths-small "C reference (read+tokenize)" "$W" 0,1 "$BIN/cgdoctor-bench-kread" paths $$
measure paths-small "cgdoctor paths PID" "$W" 0,1 "$CGDOCTOR" paths $$
measure paths-small "Go containerd/cgroups v1 PidPath" "$W" 0,1 "$BIN/cgdoctor-bench-go" paths $$
flush
fi

# -- the big node, staged in a private mount namespace
mkdir -p "$BASE"
export PROCS MOUNTS NAMESPACES RUNS WARMUP PARSE_ITERS OUT BUILD EXEC
export CGDOCTOR_BENCH_TAG=$TAG CGDOCTOR_BENCH_HOST_MNTNS=$(readlink /proc/self/ns/mnt)
# The inner half runs in a session (process group) of its own, so an interrupt can stop all of it
# at once: its shell, the runner and the program being measured, and the spawner, which then
# kills and reaps its processes and removes its cgroups.
rm -f "$OUT/inner.pid"
stop_inner() {
  local g
  g=$(cat "$OUT/inner.pid" 2>/dev/null)
  [ -n "$g" ] && kill -TERM -- "-$g" 2>/dev/null
  wait "$INNER" 2>/dev/null
}
setsid -w unshare -m --propagation private bash "$SELF" __inner &
INNER=$!
trap 'log "interrupted: tearing down"; stop_inner; cleanup; exit 130' INT TERM HUP
wait "$INNER" || { STATUS=1; log "staging, measuring or teardown of the big node failed"; }
trap - INT TERM HUP
cleanup || STATUS=1
if [ -n "$EXEC" ]; then
  [ "$STATUS" = 0 ] && echo "benchmark: --exec done, node torn down" || echo "benchmark: FAILED (--exec, staging or teardown)"
  exit "$STATUS"
fi

# ------------------------------------------------------------------------------------ the table
TABLE=$OUT/table.md
awk -F'\t' -v runs="$RUNS" '
  function r(x) { return x == "-" ? "-" : sprintf("%.2f", x) }
  { g[NR] = $1; line[NR] = $0; if ($2 ~ /^C / && $4 != "-") { cw[$1] = $4; cc[$1] = $6 } }
  END {
    print "| tool | work | wall median ms | cpu ms | peak RSS MiB | ratio to C (wall / cpu) | notes |"
    print "|---|---|---:|---:|---:|---:|---|"
    for (i = 1; i <= NR; i++) {
      split(line[i], f, "\t")
      ratio = "-"
      if (f[4] != "-" && cw[f[1]] > 0) ratio = sprintf("%.2f / %.2f", f[4] / cw[f[1]], cc[f[1]] > 0 ? f[6] / cc[f[1]] : 0)
      note = f[10]; if (f[1] == "parse") note = "in-process median of " f[8] " parses; " note
      else if (f[8] > 0) note = f[8] " runs, exit " f[9] "; " note
      gsub(/\|/, "/", note)
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", f[2], f[3], r(f[4]), r(f[6]), r(f[7]), ratio, note
    }
  }' "$RESULTS" > "$TABLE"
ROWS=$(( $(wc -l < "$TABLE") - 2 ))
{
  echo "## cgdoctor benchmark $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "cgdoctor ${CGDOCTOR_BENCH_REV:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "(no git)")}; $(uname -r), $(nproc) CPUs, load $LOAD0 before staging; staged: $PROCS processes, $MOUNTS mounts, $NAMESPACES pod mount namespaces; $RUNS runs after $WARMUP warm-ups"
  echo
  cat "$TABLE"
} | tee "$OUT/report.md"

# targets of issue 4, judged on this run
awk -F'\t' '
  { w[$1 "|" $2] = $4; cpu[$1 "|" $2] = $6; rss[$1 "|" $2] = $7; rows[++NR0] = $0 }
  function ratio(g, t, c) { return (w[g "|" t] != "" && w[g "|" t] != "-" && w[g "|" c] > 0) ? w[g "|" t] / w[g "|" c] : -1 }
  function cratio(g, t, c) { return (cpu[g "|" t] != "" && cpu[g "|" t] != "-" && cpu[g "|" c] > 0) ? cpu[g "|" t] / cpu[g "|" c] : -1 }
  function say(name, ok, val) { printf "target %-44s %s (%s)\n", name, val == "" ? "not measured" : (ok ? "met" : "MISSED"), val == "" ? "-" : val }
  END {
    C = "C reference (read+tokenize)"
    r = ratio("node-big", "cgdoctor check", C); q = cratio("node-big", "cgdoctor check", C)
    say("big node: check <= 1.2x C", r >= 0 && r <= 1.2, r >= 0 ? sprintf("wall %.2fx, cpu %.2fx", r, q) : "")
    r = ratio("parse", "CgroupFormats MountTable.parse (tokenizer)", "C tokenizer"); q = cratio("parse", "CgroupFormats MountTable.parse (tokenizer)", "C tokenizer")
    say("parse-only <= 2x C tokenizer", r >= 0 && r <= 2, r >= 0 ? sprintf("wall %.2fx, cpu %.2fx", r, q) : "")
    r = ratio("parse", "CgroupFormats MountInfo.parse (.all, materialised)", "C tokenizer"); q = cratio("parse", "CgroupFormats MountInfo.parse (.all, materialised)", "C tokenizer")
    info = (r >= 0) ? sprintf("wall %.2fx, cpu %.2fx (not a target: the scan materialises only cgroup mounts)", r, q) : "not measured"
    printf "info   %-44s %s\n", "every mountinfo entry materialised vs C", info
    split("node-small|cgdoctor check,paths-small|cgdoctor paths PID", kk, ",")
    split("small node: check,small node: paths PID", kn, ",")
    for (i = 1; i <= 2; i++) { x = w[kk[i]]; m = rss[kk[i]]
      say(kn[i] " < 5 ms and < 15 MiB", x != "-" && x < 5 && m < 15, (x != "" && x != "-") ? sprintf("wall %.2f ms, cpu %.2f ms, %.1f MiB", x, cpu[kk[i]], m) : "") }
    m = rss["node-big|cgdoctor check"]; say("big node: check peak RSS < 40 MiB", m != "-" && m < 40, (m != "" && m != "-") ? sprintf("%.1f MiB", m) : "")
    # faster than every peer: in each group, our first row against every row that is neither C nor ours
    for (k in w) { split(k, gt, "|"); grp[gt[1]] = 1 }
    n = split("node-small,paths-small,node-big,paths-big,mounts-big,parse", order, ",")
    for (i = 1; i <= n; i++) {
      g = order[i]; if (!(g in grp)) continue
      me = ""; best = ""; bt = ""
      for (j = 1; j <= NR0; j++) { split(rows[j], f, "\t"); if (f[1] != g || f[4] == "-") continue
        if (f[2] ~ /^(cgdoctor|CgroupFormats)/) { if (me == "") { me = f[4]; mc = f[6]; mine = f[2] } }
        else if (f[2] !~ /^C /) { if (best == "" || f[4] + 0 < best + 0) { best = f[4]; bc = f[6]; bt = f[2] } } }
      say("faster than every peer (" g ")", me != "" && best != "" && me + 0 < best + 0,
          (me != "" && best != "") ? sprintf("%s %.2f ms (cpu %.2f), fastest peer %s %.2f ms (cpu %.2f)", mine, me, mc, bt, best, bc) : "")
    }
  }' "$RESULTS" | tee "$OUT/targets.txt"

if awk -v l="$LOAD0" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  echo "warning: other work was running (load $LOAD0 on $(nproc) CPUs before staging): wall times include waiting for a CPU; compare the cpu column"
fi
if grep -q 'FAILED' "$RESULTS"; then log "some measurements failed (see notes column)"; fi
[ "$STATUS" = 0 ] || { echo "benchmark: FAILED (staging or teardown; table has $ROWS rows)"; exit 1; }
echo "benchmark: table written ($ROWS rows) to $TABLE"
