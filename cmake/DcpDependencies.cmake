# Dependencies, all found on the system (nothing vendored).
#  - header-only everywhere: fmt (fmt::fmt-header-only), nlohmann_json, CLI11
#  - full build only: CUDAToolkit (cudart static; the driver API is reached at run time through
#    cudaGetDriverEntryPointByVersion, never by linking libcuda), NCCL, MPI.
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
if(DCP_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

if(NOT DCP_HOST_ONLY)
  find_package(CUDAToolkit REQUIRED)

  set(MPI_CXX_SKIP_MPICXX ON)
  find_package(MPI REQUIRED COMPONENTS CXX)

  # NCCL ships no CMake config. On the development machine it lives in the CUDA tree, with the
  # libraries in lib/ (not lib64/).
  find_path(NCCL_INCLUDE_DIR nccl.h
    HINTS ${NCCL_ROOT} $ENV{NCCL_ROOT} ${CUDAToolkit_INCLUDE_DIRS}
    PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY NAMES nccl
    HINTS ${NCCL_ROOT} $ENV{NCCL_ROOT} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_LIBRARY_DIR}
      /usr/local/cuda/lib /usr/local/cuda-13.0/lib
    PATH_SUFFIXES lib lib64)
  if(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
    message(FATAL_ERROR "NCCL not found: set NCCL_ROOT to the folder holding include/nccl.h and lib/libnccl.so")
  endif()
  file(STRINGS ${NCCL_INCLUDE_DIR}/nccl.h _nccl_ver REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*NCCL_MAJOR ([0-9]+).*" "\\1" NCCL_VERSION_MAJOR "${_nccl_ver}")
  string(REGEX REPLACE ".*NCCL_MINOR ([0-9]+).*" "\\1" NCCL_VERSION_MINOR "${_nccl_ver}")
  string(REGEX REPLACE ".*NCCL_PATCH ([0-9]+).*" "\\1" NCCL_VERSION_PATCH "${_nccl_ver}")
  set(NCCL_VERSION "${NCCL_VERSION_MAJOR}.${NCCL_VERSION_MINOR}.${NCCL_VERSION_PATCH}")
  message(STATUS "NCCL ${NCCL_VERSION}: ${NCCL_LIBRARY} (headers ${NCCL_INCLUDE_DIR})")
  add_library(NCCL::nccl UNKNOWN IMPORTED)
  set_target_properties(NCCL::nccl PROPERTIES
    IMPORTED_LOCATION ${NCCL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
endif()
