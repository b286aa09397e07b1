#!/bin/sh
# Runs traces in the port kernel under QEMU for CTest (label `qemu`):
#   qemu_test.sh [--smoke] VMSIM KERNEL TRACE...
# Exits 77 (CTest SKIP_RETURN_CODE) with a message when the run cannot
# happen here: VMSIM_SKIP_QEMU=1, no qemu-system-x86_64, no qboot.rom, or the
# kernel not built. Otherwise each trace goes through `vmsim port run
# --compare --json` (expectations met, the simulator's digest and verdict),
# and the schedule the port prints must be the simulator's, step for step
# (the two share the replay engine, engine/). With --smoke the serial log must also show
# the kernel's boot line. VMSIM_PORT_ARGS adds options to every port run
# (e.g. --sanity).
set -u
smoke=0
if [ "${1:-}" = "--smoke" ]; then
  smoke=1
  shift
fi
vmsim=$1
kernel=$2
shift 2

. "$(dirname "$0")/qemu_env.sh"
qemu_env_check "$kernel"

# The "schedule" array of a result line (names and yield points hold no ']').
schedule_of() {
  sed -n 's/.*"schedule":\(\[[^]]*\]\).*/\1/p'
}

if [ "$smoke" = 0 ]; then
  code=0
  for trace in "$@"; do
    err=$(mktemp "${TMPDIR:-/tmp}/vmsim-port-err.XXXXXX")
    # shellcheck disable=SC2086 # VMSIM_PORT_ARGS is a list of options
    port_line=$("$vmsim" port run ${VMSIM_PORT_ARGS:-} --compare --json --timeout 60 --kernel "$kernel" "$trace" 2>"$err")
    c=$?
    echo "$port_line"
    cat "$err" >&2
    # A trace whose `expect` is a violation (traces/pressure/oom-unexpected.json)
    # exits 1 by the spec's rule: it passes when its expectations were met
    # and the port and the simulator agree (no "differ" on stderr).
    if [ "$c" = 1 ] && grep -q '"result": *"violation"' "$trace" &&
       echo "$port_line" | grep -q '"expect":{"met":true' && ! grep -q 'differ' "$err"; then
      c=0
    fi
    rm -f "$err"
    if [ "$c" != 0 ]; then
      code=$c
      continue
    fi
    sim_schedule=$("$vmsim" replay --json "$trace" | schedule_of)
    port_schedule=$(echo "$port_line" | schedule_of)
    if [ -z "$port_schedule" ] || [ "$port_schedule" != "$sim_schedule" ]; then
      echo "$trace: schedules differ:"
      echo "  port      $port_schedule"
      echo "  simulator $sim_schedule"
      code=1
    fi
  done
  exit "$code"
fi
log=$(mktemp "${TMPDIR:-/tmp}/vmsim-smoke.XXXXXX")
"$vmsim" port run --compare --serial --timeout 60 --kernel "$kernel" "$@" 2>"$log"
code=$?
cat "$log"
if [ "$code" = 0 ] && ! grep -q '| vmsim-port: boot' "$log"; then
  echo "boot-smoke: the run passed but the serial log has no 'vmsim-port: boot' line"
  code=1
fi
rm -f "$log"
exit "$code"
