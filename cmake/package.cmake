# Debian packages with CPack (./dev package runs `cpack -G DEB` in a shared
# build): the runtime library, libproact<soversion>, and libproact-dev with
# the headers, the CMake package and proact.pc.
if(NOT PROACT_IS_TOP_LEVEL)
  return()
endif()

set(CPACK_PACKAGE_NAME proact)
set(CPACK_PACKAGE_VENDOR proact)
set(CPACK_PACKAGE_CONTACT "proact developers <proact@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "proactor event loop with I/O completion port semantics on IOCP, epoll and io_uring")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/packages)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
# The debug information stays in the build tree.
set(CPACK_STRIP_FILES ON)

if(proact_library_type STREQUAL "SHARED_LIBRARY")
  set(proact_runtime_package libproact${proact_soversion})
else()
  # A static build has no runtime package contents; its -dev package stands alone.
  set(CPACK_COMPONENTS_ALL dev)
endif()
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${proact_runtime_package})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "proact's shared library")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libproact-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "proact's headers, CMake package (find_package(proact)) and pkg-config file")
set(proact_dev_depends "")
if(proact_runtime_package)
  list(APPEND proact_dev_depends "${proact_runtime_package} (= ${PROJECT_VERSION})")
endif()
if(PROACT_HAVE_IO_URING)
  # proact.pc's Requires.private, and a static library's link.
  list(APPEND proact_dev_depends liburing-dev)
endif()
if(PROACT_TLS_OPENSSL)
  # The same for OpenSSL (libssl, libcrypto).
  list(APPEND proact_dev_depends libssl-dev)
endif()
list(JOIN proact_dev_depends ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)

include(CPack)
