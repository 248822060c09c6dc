#!/bin/sh
# Installs every Debian 12 package that crius needs to build, test and run.
# Idempotent and non-interactive; safe to run again at any time.
set -eu

if [ "$(id -u)" != 0 ]; then
  exec sudo -- "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive

PACKAGES="
  build-essential cmake ninja-build pkg-config git
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libyaml-cpp-dev nlohmann-json3-dev libboost-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libseccomp-dev libsystemd-dev libarchive-dev openssl
  libgtest-dev libgmock-dev
  iproute2 iptables procps util-linux curl ca-certificates python3
  containernetworking-plugins busybox-static docker-registry
  runc crun containerd prometheus
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The Debian docker-registry, containerd and prometheus packages start
# services of their own on install; crius' tests start private instances instead.
for svc in docker-registry containerd prometheus; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
echo "install-deps: all packages present"
