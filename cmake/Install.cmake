# `cmake --install build [--prefix DIR]`: the binaries, the broker plugin, the systemd unit,
# an example config and the docs; `scripts/package` turns the same into a Debian package
# (CPack). Layout under the prefix (/usr for the package):
#   bin/gatehouse, bin/gatehousectl, bin/gatehouse-lua-sandbox (found next to gatehouse)
#   lib/gatehouse/gatehouse_auth.so (found from bin/../lib/gatehouse)
#   lib/systemd/system/gatehouse.service
#   etc/gatehouse/gatehouse.ini (/etc/gatehouse with the /usr prefix)
#   share/doc/gatehouse/README.md, share/doc/gatehouse/docs/*.md
include(GNUInstallDirs)
# `install` and CPack need only the installed targets, not the whole tree with its tests
# (scripts/package builds those four first).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS gatehouse gatehousectl gatehouse-lua-sandbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS gatehouse_auth LIBRARY DESTINATION lib/gatehouse)
# The unit and the config's place follow the prefix given at install time (/usr/local for
# `cmake --install`, /usr for the package, whose config belongs in /etc), so both are decided
# when installing, not when configuring.
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(GH_ETC "/etc")
  else()
    set(GH_ETC "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
  string(REGEX REPLACE "^/+" "" GH_ETC_FROM_ROOT "${GH_ETC}")  # absolute, less its first /
  set(GH_BINDIR "${CMAKE_INSTALL_PREFIX}/bin")
  set(GH_DOCDIR "${CMAKE_INSTALL_PREFIX}/share/doc/gatehouse")
]])
install(CODE "configure_file(${CMAKE_SOURCE_DIR}/packaging/gatehouse.service.in
                             ${CMAKE_BINARY_DIR}/packaging/gatehouse.service @ONLY)")
install(FILES ${CMAKE_BINARY_DIR}/packaging/gatehouse.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/gatehouse.ini DESTINATION "/\${GH_ETC_FROM_ROOT}/gatehouse")
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gatehouse)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "gatehouse operators <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "door locks and chat over MQTT and HTTP, event-sourced on RocksDB")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Shared libraries from dpkg-shlibdeps; mosquitto is run, not linked: the private broker.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "mosquitto (>= 2.0)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
# The example config is the admin's once installed: dpkg keeps their edits on upgrade.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/packaging/conffiles)
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "/etc/gatehouse/gatehouse.ini\n")
include(CPack)
