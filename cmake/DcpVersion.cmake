# Tool version, git SHA and build type, recorded in every report's run context. The SHA is
# re-read at every build (not only at configure time), and the generated file is rewritten only
# when its content changes, so an unchanged tree does not relink.
set(DCP_BUILD_INFO_CPP ${CMAKE_BINARY_DIR}/generated/build_info.cpp)
add_custom_target(dcp_build_info
  COMMAND ${CMAKE_COMMAND}
    -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${DCP_BUILD_INFO_CPP}
    -DVERSION=${PROJECT_VERSION} -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
    -P ${CMAKE_SOURCE_DIR}/cmake/WriteBuildInfo.cmake
  BYPRODUCTS ${DCP_BUILD_INFO_CPP}
  COMMENT "dcpbench build info")
