#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages Postern needs, skipping what is present.
#   scripts/install-deps.sh build   compiler, CMake and libraries (to build and run)
#   scripts/install-deps.sh test    build + Dovecot, Postfix (+ what the tests use,
#                                   clang and libFuzzer for the fuzz preset)
set -euo pipefail
what="${1:-build}"

build_pkgs=(g++ cmake ninja-build ccache pkg-config make python3 openssl ca-certificates
  libcaf-dev libboost1.81-dev libssl-dev liblmdb-dev rapidjson-dev libetpan-dev libexpat1-dev
  libspdlog-dev libargon2-dev libsasl2-modules)
test_pkgs=(libgtest-dev libgmock-dev googletest libbenchmark-dev
  dovecot-imapd dovecot-lmtpd postfix procps iproute2 nodejs npm
  chromium fonts-dejavu-core clang libclang-rt-dev)

case "$what" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # A Node.js that is already on the PATH (e.g. a newer one from elsewhere)
  # will do: Debian's npm package alone pulls hundreds of packages.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  # NodeSource's nodejs bundles npm (and conflicts with Debian's npm).
  if [ "$p" = npm ] && command -v npm >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
# Postfix asks debconf questions otherwise; the test servers use their own config.
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections 2>/dev/null || true
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
