# `cmake --install build [--prefix DIR]`: the binaries, the broker plugin, the systemd unit,
# an example config and the docs; `scripts/package` turns the same into a Debian package
# (CPack). Layout under the prefix (/usr for the package):
#   bin/gatehouse, bin/gatehousectl, bin/gatehouse-lua-sandbox (found next to gatehouse)
#   lib/gatehouse/gatehouse_auth.so (found from bin/../lib/gatehouse)
#   lib/systemd/system/gatehouse.service
#   etc/gatehouse/gatehouse.ini (/etc with the /usr prefix)
#   share/doc/gatehouse/README.md, share/doc/gatehouse/docs/*.md
include(GNUInstallDirs)

install(TARGETS gatehouse gatehousectl gatehouse-lua-sandbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS gatehouse_auth LIBRARY DESTINATION lib/gatehouse)
configure_file(${CMAKE_SOURCE_DIR}/packaging/gatehouse.service.in
               ${CMAKE_BINARY_DIR}/packaging/gatehouse.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/gatehouse.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/gatehouse.ini
        DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/gatehouse)
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
