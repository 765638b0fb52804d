# The Debian package: `cmake --build build --target package` (or `cpack -G DEB`
# in the build directory) writes calloutd_<version>_<arch>.deb.
#
# It holds the `runtime` install component (binaries, man pages, templates,
# dashboard, rules: the same under any prefix) plus the `deb` component
# below, whose files name Debian's paths (/usr, /etc, /lib/systemd/system)
# whatever CMAKE_INSTALL_PREFIX this build was configured with. The `source`
# component (the unit and config for that prefix) stays out of the package.
# docs/install.md describes both routes.

set(CALLOUTD_PACKAGE_VERSION ${PROJECT_VERSION} CACHE STRING
    "Version of the Debian package (default: project() VERSION)")
set(CALLOUTD_PACKAGE_MAINTAINER "calloutd maintainers <maintainers@calloutd.example>" CACHE STRING
    "Maintainer field of the Debian package")

set(deb_dir ${CMAKE_BINARY_DIR}/deb)
set(deb_sources ${CMAKE_SOURCE_DIR}/cmake/deb)

# The unit with Debian's paths, from the same template as `cmake --install`'s.
function(calloutd_configure_deb_unit)
  set(CMAKE_INSTALL_FULL_BINDIR /usr/bin)
  set(CMAKE_INSTALL_FULL_SYSCONFDIR /etc)
  set(CMAKE_INSTALL_FULL_DOCDIR /usr/share/doc/calloutd)
  configure_file(${CMAKE_SOURCE_DIR}/systemd/calloutd.service.in ${deb_dir}/calloutd.service @ONLY)
endfunction()
calloutd_configure_deb_unit()

# A native package's changelog, required by Debian policy (compressed below).
string(TIMESTAMP CALLOUTD_PACKAGE_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(${deb_sources}/changelog.in ${deb_dir}/changelog @ONLY)
add_custom_command(
  OUTPUT ${deb_dir}/changelog.gz
  COMMAND gzip -9nc ${deb_dir}/changelog > ${deb_dir}/changelog.gz
  DEPENDS ${deb_dir}/changelog)
add_custom_target(calloutd_deb_files ALL DEPENDS ${deb_dir}/changelog.gz)

# Paths are absolute on purpose: /etc and /lib are outside the /usr prefix.
# Bookworm's units live in /lib/systemd/system (usrmerge moves them later).
install(FILES ${deb_dir}/calloutd.service DESTINATION /lib/systemd/system
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/config/calloutd.yml DESTINATION /etc/calloutd
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${deb_sources}/copyright ${deb_dir}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME calloutd)
set(CPACK_PACKAGE_VERSION ${CALLOUTD_PACKAGE_VERSION})
set(CPACK_PACKAGE_CONTACT ${CALLOUTD_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Alertmanager callouts and postmortems committed to git")
set(CPACK_PACKAGE_DESCRIPTION
    "calloutd receives Alertmanager and PagerDuty webhooks, journals them and
commits each callout and its postmortem as markdown to a git repository,
pushed to the team's remote. calloutctl opens, searches, lints and renders
them. Includes a systemd unit, a Grafana dashboard and Prometheus rules.")
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_BINARY_DIR};calloutd;runtime;/;${CMAKE_BINARY_DIR};calloutd;deb;/")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# git for the hooks and the engineers' clones; the libraries from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS git)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# `calloutctl render --format pdf`.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS weasyprint)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${deb_sources}/conffiles ${deb_sources}/postinst ${deb_sources}/prerm ${deb_sources}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
