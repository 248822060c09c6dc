# The Debian package, crius_<version>_<arch>.deb, made by CPack from this
# build tree: `cmake --build build --target package` (or deploy/package.sh).
# Not part of the default build: `package` is a target of its own.
#
# Binaries go to /usr/bin, all five side by side, since the daemon starts
# crius-monitor, crius-pause and crius-pull from its own directory
# (base/self_exe.h). A source install (`cmake --install build`, prefix
# /usr/local) installs the same five to /usr/local/bin and nothing else; the files below that only
# make sense in the package (/etc, the systemd unit) are in the component
# `deb`, which such an install leaves out.

set(CRIUS_PACKAGE_MAINTAINER "crius maintainers <crius-maintainers@localhost>"
    CACHE STRING "Maintainer field of the Debian package")

# crius-pause lives in sandbox/ and has no install rule of its own.
install(TARGETS crius-pause RUNTIME DESTINATION bin)

set(_pkg_src ${PROJECT_SOURCE_DIR}/deploy)
set(_pkg_gen ${PROJECT_BINARY_DIR}/deploy)

# The unit, with ExecStart at the packaged binary (deploy/systemd/crius.service
# is the one for a source install, at /usr/local/bin/crius),
file(READ ${_pkg_src}/systemd/crius.service _unit)
# and the packaged manual page as its documentation.
string(REPLACE "ExecStart=/usr/local/bin/crius" "ExecStart=/usr/bin/crius" _pkg_unit "${_unit}")
if(_pkg_unit STREQUAL _unit)
  message(FATAL_ERROR "deploy/systemd/crius.service has no ExecStart=/usr/local/bin/crius line to point at /usr/bin")
endif()
string(REPLACE "[Unit]\n" "[Unit]\nDocumentation=man:crius(8)\n" _pkg_unit "${_pkg_unit}")
file(CONFIGURE OUTPUT ${_pkg_gen}/crius.service CONTENT "${_pkg_unit}" @ONLY)

# The same for the rootless user unit (systemctl --user).
file(READ ${_pkg_src}/systemd/user/crius.service _user_unit)
string(REPLACE "ExecStart=/usr/local/bin/crius" "ExecStart=/usr/bin/crius" _pkg_user_unit "${_user_unit}")
file(CONFIGURE OUTPUT ${_pkg_gen}/user/crius.service CONTENT "${_pkg_user_unit}" @ONLY)

# Debian wants a changelog in every package's doc directory (gzip -n: no
# timestamp inside, so the same input gives the same bytes).
string(TIMESTAMP _pkg_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(CONFIGURE OUTPUT ${_pkg_gen}/changelog CONTENT
"crius (${PROJECT_VERSION}) unstable; urgency=medium

  * Built from the crius source tree with CPack.

 -- ${CRIUS_PACKAGE_MAINTAINER}  ${_pkg_date}
" @ONLY)
execute_process(COMMAND gzip -9nc ${_pkg_gen}/changelog OUTPUT_FILE ${_pkg_gen}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
# One manual page for the five binaries; the helpers' pages point at it.
execute_process(COMMAND gzip -9nc ${_pkg_src}/debian/crius.8 OUTPUT_FILE ${_pkg_gen}/crius.8.gz COMMAND_ERROR_IS_FATAL ANY)
set(_pkg_man ${_pkg_gen}/crius.8.gz)
foreach(_helper crius-runtime crius-monitor crius-pause crius-pull)
  file(CONFIGURE OUTPUT ${_pkg_gen}/${_helper}.8 CONTENT ".so man8/crius.8\n")
  execute_process(COMMAND gzip -9nc ${_pkg_gen}/${_helper}.8 OUTPUT_FILE ${_pkg_gen}/${_helper}.8.gz
                  COMMAND_ERROR_IS_FATAL ANY)
  list(APPEND _pkg_man ${_pkg_gen}/${_helper}.8.gz)
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_pkg_src}/systemd/crius.service
                                                               ${_pkg_src}/systemd/user/crius.service
                                                               ${_pkg_src}/debian/crius.8)

install(FILES ${_pkg_gen}/crius.service DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${_pkg_gen}/user/crius.service DESTINATION /usr/lib/systemd/user COMPONENT deb EXCLUDE_FROM_ALL)
# A conffile (deploy/debian/conffiles): every key commented with its default.
install(FILES ${_pkg_src}/crius.yaml DESTINATION /etc/crius COMPONENT deb EXCLUDE_FROM_ALL)
# Copied to /etc by postinst only where the machine has none of its own.
install(FILES ${_pkg_src}/cni/10-crius-bridge.conflist ${_pkg_src}/crictl.yaml
        DESTINATION share/crius COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${_pkg_src}/debian/copyright ${_pkg_gen}/changelog.gz
        DESTINATION share/doc/crius COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${_pkg_man} DESTINATION share/man/man8 COMPONENT deb EXCLUDE_FROM_ALL)
# Why three of the binaries are static, for lintian.
install(FILES ${_pkg_src}/debian/lintian-overrides DESTINATION share/lintian/overrides RENAME crius
        COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME crius)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${CRIUS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Kubernetes container runtime (CRI)")
set(CPACK_PACKAGE_DESCRIPTION "crius serves the Kubernetes Container Runtime Interface (CRI v1) on a unix
socket for kubelet and crictl: pod sandboxes with CNI networking, images
from OCI and Docker registries on overlayfs, containers under a per-pod
monitor with its own OCI runtime (also usable on its own as crius-runtime).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # crius_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The CNI plugins the default network runs (bridge's ipMasq and portmap
# call iptables); the shared libraries of the daemon come from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "containernetworking-plugins, iptables")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# What a user's own, rootless crius needs (README: "Running it without root").
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "uidmap, slirp4netns")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_pkg_src}/debian/postinst ${_pkg_src}/debian/prerm ${_pkg_src}/debian/postrm ${_pkg_src}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# The debug info of a RelWithDebInfo build is most of the daemon's size.
set(CPACK_STRIP_FILES ON)
# One package from both components.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified deb)
include(CPack)
