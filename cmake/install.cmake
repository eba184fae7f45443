# Install rules: `cmake --install build --prefix P` puts
#   P/include/streamml/...                  the public headers
#   P/lib/libstreamml_<layer>.a             the static libraries
#   P/bin/streamml                          the CLI
#   P/lib/cmake/streamml/streammlConfig.cmake (+ version, targets)
# so that another project does find_package(streamml) and links
# streamml::streamml (everything) or one layer: streamml::common, ::kafka,
# ::data, ::model, ::train, ::serve_core, ::serve. tests/install/ is such a
# project (scripts/install_test.sh). The horse-race example is not installed.
include(CMakePackageConfigHelpers)

set(STREAMML_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/streamml)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/streamml
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(TARGETS
    streamml_common streamml_kafka streamml_data streamml_model streamml_train streamml_serve_core
    streamml_serve streamml
  EXPORT streammlTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT streammlTargets
  NAMESPACE streamml::
  DESTINATION ${STREAMML_INSTALL_CMAKEDIR})

install(TARGETS streamml_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/streammlConfig.cmake.in
  ${PROJECT_BINARY_DIR}/streammlConfig.cmake
  INSTALL_DESTINATION ${STREAMML_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/streammlConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/streammlConfig.cmake ${PROJECT_BINARY_DIR}/streammlConfigVersion.cmake
  DESTINATION ${STREAMML_INSTALL_CMAKEDIR})
