# Cross build for 64-bit Windows with MinGW-w64 (the -posix thread model, which
# has std::thread and std::mutex), run under Wine.
#
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(PROACT_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${PROACT_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${PROACT_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${PROACT_MINGW_PREFIX}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${PROACT_MINGW_PREFIX})
# Windows packages installed elsewhere (cmake --install --prefix P, then
# find_package with CMAKE_PREFIX_PATH=P) are roots of their own: a root-only
# search would otherwise look for them under /usr/x86_64-w64-mingw32/P.
list(APPEND CMAKE_FIND_ROOT_PATH ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Fully static executables and DLLs (libproact.dll with BUILD_SHARED_LIBS):
# Wine then needs no MinGW runtime DLLs (libstdc++, libgcc, winpthread) on
# its path, and a DLL runs wherever it is copied.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# CTest (and try_run) start the cross-built executables through Wine. Set
# WINEPREFIX (a private prefix) and WINEDEBUG=-all in the environment.
find_program(PROACT_WINE NAMES wine NO_CMAKE_FIND_ROOT_PATH)
if(PROACT_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${PROACT_WINE})
endif()
