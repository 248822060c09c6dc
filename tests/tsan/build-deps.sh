#!/bin/bash
# Builds Debian bookworm's abseil, protobuf and gRPC (the exact versions the
# crius packages link: abseil 20220623.1-1+deb12u2, protobuf 3.21.12-3+deb12u1,
# grpc 1.51.1-3) with -fsanitize=thread into a prefix, so that a TSan tree of
# crius sees the ordering done inside gRPC (its completion queues, absl::Mutex,
# protobuf's arenas) instead of hundreds of false reports per RPC.
# A by-hand procedure (issue 17), not part of CI; see tests/tsan/README.md.
#
#   tests/tsan/build-deps.sh /opt/crius-tsan [workdir]     (as root, Debian 12)
#
# It adds a deb-src entry, installs the build tools, fetches the sources with
# Debian's patches applied (apt-get source), and builds with clang, shared
# libraries, keeping what of debian/rules matters for the ABI: absl's
# options.h as Debian patches it (absl::optional/string_view/any/variant are
# absl's own types, inline namespace debian3), absl in C++17, no NDEBUG
# (dh's CMAKE_BUILD_TYPE=None), gRPC with every provider "package". Only the
# libraries crius links are built: all of absl, libprotobuf (no protoc: crius
# keeps Debian's /usr/bin/protoc and grpc_cpp_plugin, the same versions), and
# gRPC's gpr, grpc, grpc++ with their upb and address_sorting. re2, c-ares,
# OpenSSL and zlib stay Debian's (uninstrumented). On 2 cores: absl ~1 min,
# protobuf ~2 min, gRPC ~7 min.
set -euo pipefail

P=${1:?usage: build-deps.sh PREFIX [WORKDIR]}
W=${2:-/var/tmp/tsan}
JOBS=${JOBS:-2}
F="-fsanitize=thread -O1 -g1 -fno-omit-frame-pointer"
ABSL=20220623.1-1+deb12u2 PROTOBUF=3.21.12-3+deb12u1 GRPC=1.51.1-3
NINJA="nice -n 15 ninja -j$JOBS"

# Sources. The deb-src entry mirrors the deb one of debian.sources.
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list; then
  cat > /etc/apt/sources.list.d/crius-tsan-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update
fi
apt-get install -y --no-install-recommends dpkg-dev clang cmake ninja-build pkg-config \
  libre2-dev libc-ares-dev libssl-dev zlib1g-dev
mkdir -p "$W/src" "$W/build"
cd "$W/src"
[ -d abseil-20220623.1 ] || apt-get source "abseil=$ABSL"
[ -d protobuf-3.21.12 ] || apt-get source "protobuf=$PROTOBUF"
[ -d grpc-1.51.1 ] || apt-get source "grpc=$GRPC"

common=(-G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  -DCMAKE_BUILD_TYPE=None "-DCMAKE_C_FLAGS=$F" "-DCMAKE_CXX_FLAGS=$F"
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
  -DCMAKE_INSTALL_PREFIX="$P" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_PREFIX_PATH="$P"
  -DCMAKE_INSTALL_RPATH="$P/lib" -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON)

# abseil: all its libraries, as debian/rules' shared build.
cmake "${common[@]}" -S "$W/src/abseil-20220623.1" -B "$W/build/absl" \
  -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF
$NINJA -C "$W/build/absl"
$NINJA -C "$W/build/absl" install

# protobuf: libprotobuf (and libprotobuf-lite, which comes with it), no protoc.
# Debian builds it with autotools; this CMake build gives the same SONAME
# (libprotobuf.so.32) and the same headers.
cmake "${common[@]}" -S "$W/src/protobuf-3.21.12" -B "$W/build/protobuf" \
  -DBUILD_SHARED_LIBS=ON -Dprotobuf_BUILD_SHARED_LIBS=ON -Dprotobuf_BUILD_TESTS=OFF \
  -Dprotobuf_BUILD_PROTOC_BINARIES=OFF -Dprotobuf_BUILD_LIBPROTOC=OFF -Dprotobuf_WITH_ZLIB=ON
$NINJA -C "$W/build/protobuf"
$NINJA -C "$W/build/protobuf" install

# gRPC: debian/rules' COMMON_BUILD_FLAGS, without codegen and plugins. Only
# gpr, grpc, grpc++ (and upb, address_sorting they need) are built: its
# install target would build every library (grpc_unsecure, grpc++_alts…, a
# second compile of the core), so they are installed by hand, with the .pc
# files its configure step wrote. grpc_plugin_support (never built here) names
# libprotoc even without codegen: a path (it need not exist) satisfies configure.
cmake "${common[@]}" -S "$W/src/grpc-1.51.1" -B "$W/build/grpc" \
  -DBUILD_SHARED_LIBS=ON -DgRPC_BUILD_TESTS=OFF -DgRPC_BUILD_CODEGEN=OFF \
  -DgRPC_BUILD_CSHARP_EXT=OFF -DgRPC_BACKWARDS_COMPATIBILITY_MODE=OFF \
  -DgRPC_ABSL_PROVIDER=package -DgRPC_CARES_PROVIDER=package -DgRPC_PROTOBUF_PROVIDER=package \
  -DgRPC_RE2_PROVIDER=package -DgRPC_SSL_PROVIDER=package -DgRPC_ZLIB_PROVIDER=package \
  -DgRPC_INSTALL_LIBDIR=lib -DProtobuf_PROTOC_LIBRARY=/usr/lib/x86_64-linux-gnu/libprotoc.so \
  -DgRPC_INSTALL_PKGCONFIGDIR=lib/pkgconfig -DgRPC_INSTALL_CMAKEDIR=lib/cmake/grpc
$NINJA -C "$W/build/grpc" gpr grpc grpc++
mkdir -p "$P/include" "$P/lib/pkgconfig"
cp -a "$W/src/grpc-1.51.1/include/grpc" "$W/src/grpc-1.51.1/include/grpcpp" \
  "$W/src/grpc-1.51.1/include/grpc++" "$P/include/"
for l in gpr grpc grpc++ upb address_sorting; do
  cp -a "$W/build/grpc/lib$l.so"* "$P/lib/"
done
for pc in gpr grpc grpc++; do
  cp "$W/build/grpc/libs/opt/pkgconfig/$pc.pc" "$P/lib/pkgconfig/"
done
echo "done: $P"
