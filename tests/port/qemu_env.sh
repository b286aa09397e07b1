# Sourced by the `qemu` test scripts: qemu_env_check KERNEL exits 77 (CTest
# SKIP_RETURN_CODE) with a message when QEMU runs cannot happen here:
# VMSIM_SKIP_QEMU=1, no qemu-system-x86_64, no qboot.rom, or no kernel.
qemu_env_check() {
  skip() {
    echo "SKIPPED: $*"
    exit 77
  }

  [ "${VMSIM_SKIP_QEMU:-0}" = "1" ] && skip "VMSIM_SKIP_QEMU=1"
  qemu=${VMSIM_QEMU:-$(command -v qemu-system-x86_64 || true)}
  [ -n "$qemu" ] && [ -x "$qemu" ] ||
    skip "qemu-system-x86_64 not found (apt-get install qemu-system-x86 qemu-system-data)"
  if [ -z "${VMSIM_QEMU_BIOS:-}" ]; then
    found=""
    for d in "$(dirname "$(dirname "$qemu")")/share/qemu" /usr/share/qemu /usr/local/share/qemu; do
      [ -f "$d/qboot.rom" ] && found=1
    done
    [ -n "$found" ] || skip "QEMU firmware qboot.rom not found (apt-get install qemu-system-data)"
  fi
  [ -f "$1" ] || skip "no kernel at $1 (cmake --build <build> --target vmsim-kernel)"
}
