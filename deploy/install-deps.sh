#!/bin/sh
# Installs every Debian 12 package that crius needs to build, test and run.
# Idempotent and non-interactive; safe to run again at any time.
set -eu

if [ "$(id -u)" != 0 ]; then
  exec sudo -- "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive

PACKAGES="
  build-essential cmake ninja-build pkg-config git dpkg-dev
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libyaml-cpp-dev nlohmann-json3-dev libboost-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev libisal-dev libseccomp-dev libsystemd-dev libarchive-dev openssl
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev llvm
  iproute2 iptables procps util-linux systemd-container curl ca-certificates python3
  uidmap slirp4netns
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

# A first daemon can network pods: the default crius bridge network (the
# one the Debian package installs) when the machine has no CNI network at
# all. Never beside or over one the admin chose.
cni_dir=/etc/cni/net.d
has_network=""
for f in "$cni_dir"/*.conf "$cni_dir"/*.conflist "$cni_dir"/*.json; do
  [ -e "$f" ] && has_network=yes
done
if [ -z "$has_network" ]; then
  install -D -m 0644 "$(dirname "$0")/cni/10-crius-bridge.conflist" "$cni_dir/10-crius-bridge.conflist"
  echo "install-deps: installed the default CNI network $cni_dir/10-crius-bridge.conflist (bridge crius0, 10.86.0.0/16)"
fi
