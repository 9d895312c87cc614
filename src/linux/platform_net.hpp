// The BSD socket names that backend-neutral code (src/common) may use. Each
// platform directory has a platform_net.hpp; CMake puts the right one on the
// include path, so common code never tests the platform itself.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
