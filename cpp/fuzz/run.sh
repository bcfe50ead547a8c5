#!/usr/bin/env bash
# Build the libFuzzer targets (Clang, ASan + UBSan) and run one or all of them.
#
#   cpp/fuzz/run.sh TARGET|all SECONDS      e.g. run.sh all 600      (-max_total_time per target)
#   cpp/fuzz/run.sh TARGET|all RUNSr        e.g. run.sh fuzz_edt 20000r  (-runs: that many executions)
#
# TARGET is a file name in this folder without .cpp (fuzz_filters, ...) or the part after fuzz_ (filters).
# Each target starts from a copy of its seed corpus (cpp/fuzz/corpus/<name>/, kept in the repository) in a
# working corpus that grows between runs; crashes are written next to it, and the script then exits 1.
# It prints, per target, the executions, executions per second and new corpus units.
#
# Environment: CXX (a clang++; default: the newest clang++ / clang++-NN found), SEGEN_FUZZ_BUILD (build folder,
# default build/fuzz), SEGEN_FUZZ_WORK (working corpora and crashes, default $SEGEN_FUZZ_BUILD/work),
# SEGEN_FUZZ_JOBS (build jobs, default 2), SEGEN_FUZZ_ARGS (more libFuzzer flags, e.g. -max_len=8192),
# SEGEN_NUM_THREADS (segen's threads inside each target; default 2 so that row blocks are split).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ $# -ne 2 ]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
WHICH=$1 AMOUNT=$2
case "$AMOUNT" in
  *[0-9]r) LIMIT=(-runs="${AMOUNT%r}") ;;
  *[!0-9]* | '') echo "run.sh: SECONDS must be a number, or RUNS a number followed by r; got '$AMOUNT'" >&2; exit 2 ;;
  *) LIMIT=(-max_total_time="$AMOUNT") ;;
esac

if [ "$WHICH" = all ]; then
  TARGETS=()
  for f in "$HERE"/fuzz_*.cpp; do TARGETS+=("$(basename "$f" .cpp)"); done
else
  t=${WHICH#fuzz_}
  [ -f "$HERE/fuzz_$t.cpp" ] || { echo "run.sh: no target fuzz_$t (see $HERE/fuzz_*.cpp)" >&2; exit 2; }
  TARGETS=("fuzz_$t")
fi

if [ -z "${CXX:-}" ]; then
  CXX=$(command -v clang++ || true)
  if [ -z "$CXX" ]; then
    CXX=$(compgen -c clang++- | grep -E '^clang\+\+-[0-9]+$' | sort -t- -k2 -n | tail -1 || true)
  fi
  [ -n "$CXX" ] || { echo "run.sh: no clang++ found (apt-get install clang libclang-rt-dev, or set CXX)" >&2; exit 2; }
fi
BUILD=${SEGEN_FUZZ_BUILD:-$ROOT/build/fuzz}
WORK=${SEGEN_FUZZ_WORK:-$BUILD/work}
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
[ -f "$BUILD/CMakeCache.txt" ] && GEN=()  # keep the generator an existing build folder was made with
cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$CXX" \
  -DSEGEN_BUILD_FUZZERS=ON -DSEGEN_BUILD_TESTS=OFF -DSEGEN_BUILD_PYTHON=OFF >/dev/null
cmake --build "$BUILD" --target fuzzers -j "${SEGEN_FUZZ_JOBS:-2}"

# Stop at the first sanitizer report (libFuzzer then writes the input that caused it).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=()
for t in "${TARGETS[@]}"; do
  name=${t#fuzz_}
  corpus=$WORK/corpus/$name
  mkdir -p "$corpus" "$WORK/crashes"
  [ -d "$HERE/corpus/$name" ] && cp -n "$HERE/corpus/$name"/* "$corpus"/ 2>/dev/null || true
  log=$WORK/$name.log
  printf '\n=== %s (%s)\n' "$t" "${LIMIT[*]}"
  rc=0
  # shellcheck disable=SC2086
  "$BUILD/cpp/fuzz/$t" "${LIMIT[@]}" -print_final_stats=1 -artifact_prefix="$WORK/crashes/$name-" \
    ${SEGEN_FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY|Test unit written' "$log" | head -20 || true
    echo "FAILED (exit $rc); full log: $log"
  fi
  line=$(printf '%-16s %12s executions %8s exec/s %6s new units  %s' "$t" "${execs:-?}" "${rate:-?}" "${added:-?}" \
    "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)")
  echo "$line"
  summary+=("$line")
done
printf '\n=== summary (%s; working corpora and crashes in %s)\n' "${LIMIT[*]}" "$WORK"
printf '%s\n' "${summary[@]}"
exit $status
