# Installing proact: the headers, the library, a CMake package
# (find_package(proact) gives proact::proact, and proact::win32 where it is
# built) and a pkg-config file, in the GNUInstallDirs layout; and CPack's
# Debian packages (./dev package).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(proact_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/proact)

install(TARGETS proact EXPORT proactTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# proact::win32 (Linux, PROACT_BUILD_WIN32): the Win32 completion-port API,
# its headers with the rest; without it, neither.
if(TARGET proact_win32)
  install(TARGETS proact_win32 EXPORT proactTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
  set(proact_header_exclusions "")
else()
  set(proact_header_exclusions PATTERN win32 EXCLUDE PATTERN win32.h EXCLUDE)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/proact
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev ${proact_header_exclusions})
install(EXPORT proactTargets NAMESPACE proact:: DESTINATION ${proact_cmake_dir} COMPONENT dev)

# What the package's users need besides the library: a static library
# brings its private dependencies (liburing, the Windows socket libraries)
# into their link; a shared one keeps them to itself.
if(proact_library_type STREQUAL "STATIC_LIBRARY" AND PROACT_HAVE_IO_URING)
  set(PROACT_CONFIG_FIND_URING ON)
else()
  set(PROACT_CONFIG_FIND_URING OFF)
endif()
if(proact_library_type STREQUAL "STATIC_LIBRARY" AND PROACT_TLS_OPENSSL)
  set(PROACT_CONFIG_FIND_OPENSSL ON)
else()
  set(PROACT_CONFIG_FIND_OPENSSL OFF)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/proactConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/proactConfig.cmake
                              INSTALL_DESTINATION ${proact_cmake_dir})
# Until 1.0 a minor version may break the API, so only the same major.minor
# satisfies a request; from 1.0 on, the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(proact_compatibility SameMinorVersion)
else()
  set(proact_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/proactConfigVersion.cmake
                                 COMPATIBILITY ${proact_compatibility})
install(FILES ${PROJECT_BINARY_DIR}/proactConfig.cmake
              ${PROJECT_BINARY_DIR}/proactConfigVersion.cmake
        DESTINATION ${proact_cmake_dir} COMPONENT dev)

# proact.pc finds its prefix from its own location (${pcfiledir}), so it is
# right wherever the files are installed (cmake --install --prefix, DESTDIR,
# a package).
file(RELATIVE_PATH PROACT_PC_PREFIX_FROM_PCFILEDIR
     /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" PROACT_PC_PREFIX_FROM_PCFILEDIR "${PROACT_PC_PREFIX_FROM_PCFILEDIR}")
set(PROACT_PC_CFLAGS "")
set(PROACT_PC_REQUIRES_PRIVATE "")
set(PROACT_PC_LIBS_PRIVATE "")
if(proact_library_type STREQUAL "SHARED_LIBRARY")
  set(PROACT_PC_CFLAGS " -DPROACT_SHARED")
endif()
if(PROACT_HAVE_IO_URING)
  list(APPEND PROACT_PC_REQUIRES_PRIVATE liburing)
endif()
if(PROACT_TLS_OPENSSL)
  list(APPEND PROACT_PC_REQUIRES_PRIVATE libssl libcrypto)
endif()
string(REPLACE ";" ", " PROACT_PC_REQUIRES_PRIVATE "${PROACT_PC_REQUIRES_PRIVATE}")
if(WIN32)
  set(PROACT_PC_LIBS_PRIVATE "-lws2_32 -lmswsock -lntdll -lsecur32 -lcrypt32")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/proact.pc.in ${PROJECT_BINARY_DIR}/proact.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/proact.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

include(${CMAKE_CURRENT_LIST_DIR}/package.cmake)
