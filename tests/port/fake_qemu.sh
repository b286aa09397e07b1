#!/bin/sh
# A stand-in for qemu-system-x86_64 in the runner's unit tests: it plays the
# port kernel's side of the protocol (docs/port.md) without booting anything.
#   FAKE_QEMU_MODE    what to do: pass (default), violation, bad-image, panic,
#                     triple-fault, hang, no-result, two-results, qemu-error,
#                     wrong-status
#   FAKE_QEMU_RESULT  file holding the JSON result line to print
#   FAKE_QEMU_ARGS    file to record the command line in, one argument a line
set -u
if [ -n "${FAKE_QEMU_ARGS:-}" ]; then
  : >"$FAKE_QEMU_ARGS"
  for a in "$@"; do printf '%s\n' "$a" >>"$FAKE_QEMU_ARGS"; done
fi
# The image must exist when QEMU starts: the runner compiles it first.
image=""
prev=""
for a in "$@"; do
  [ "$prev" = "-initrd" ] && image="$a"
  prev="$a"
done
if [ ! -s "$image" ]; then
  echo "fake-qemu: no trace image at '$image'" >&2
  exit 1
fi
result() {
  if [ -n "${FAKE_QEMU_RESULT:-}" ]; then cat "$FAKE_QEMU_RESULT"; echo; fi
}
echo "qboot chatter"
echo "vmsim-port: boot"
echo "vmsim-port: first-op"
case "${FAKE_QEMU_MODE:-pass}" in
  pass) result; exit 33 ;;
  violation) result; exit 35 ;;
  wrong-status) result; exit 35 ;;
  bad-image) echo "vmsim-port: image: bad magic"; exit 37 ;;
  panic) echo "PANIC: slab double free"; exit 39 ;;
  triple-fault) exit 0 ;;
  hang) exec sleep 600 ;;
  no-result) exit 33 ;;
  two-results) result; result; exit 33 ;;
  qemu-error) echo "qemu-system-x86_64: -bios qboot.rom: could not load" >&2; exit 1 ;;
  *) echo "fake-qemu: unknown FAKE_QEMU_MODE" >&2; exit 1 ;;
esac
