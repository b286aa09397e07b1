#!/usr/bin/env bash
# Installs what vmsim needs on Debian bookworm, idempotently. Run as root.
#
# Unicorn 2.1 comes from the trixie suite: bookworm's 2.0.1 forces identity
# mapping and cannot act as an MMU (see docs/unicorn.md). The trixie packages
# are fetched with a private apt state directory from the mirror this system is
# already configured with; the system itself stays on bookworm.
set -euo pipefail

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages ($*) and not root; install them or re-run as root" >&2
    exit 1
  fi
}

BOOKWORM_PKGS=(build-essential cmake ninja-build pkg-config nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev liblz4-dev libzstd-dev zlib1g-dev clang clang-format python3
  qemu-system-x86 qemu-system-data parallel)

missing=()
for p in "${BOOKWORM_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "${missing[@]}"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

unicorn_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' libunicorn-dev 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 2.1
}

if ! unicorn_ok; then
  need_root libunicorn-dev
  # The mirror this system already uses (deb822 or one-line sources).
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      grep -v security | awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | head -n1 || true)
  fi
  if [ -z "$mirror" ]; then
    echo "install-deps: cannot find a Debian mirror in the apt sources" >&2
    exit 1
  fi
  state=$(mktemp -d /tmp/vmsim-trixie.XXXXXX)
  chmod 755 "$state"
  trap 'rm -rf "$state"' EXIT
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
  # apt-get download fetches as the unprivileged _apt user into the current
  # directory; without this it falls back to root with a warning.
  chown _apt "$state/debs" 2>/dev/null || true
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
    >"$state/sources.list"
  apt_private=(-o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache"
    -o APT::Get::List-Cleanup=0)
  echo "install-deps: fetching Unicorn 2.1 from the trixie suite"
  apt-get "${apt_private[@]}" update -qq
  (cd "$state/debs" && apt-get "${apt_private[@]}" download libunicorn2t64 libunicorn-dev)
  dpkg -i "$state"/debs/*.deb
fi
