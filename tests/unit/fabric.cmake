# fabric unit tests (no GPU, no MPI).
#
# test_fabric_paths (host-only builds too): the NVML loader against a missing library, a library
# that is not NVML, and a fake NVML built here (fabric/fake_nvml.cpp, three variants: every entry
# point; no nvmlDeviceGetGpuFabricInfoV; no fabric info nor P2P status), and the peer-path
# classifier with its LL128 rule.
foreach(_variant full v1 no_fabric)
  add_library(fake_nvml_${_variant} MODULE ${CMAKE_CURRENT_LIST_DIR}/fabric/fake_nvml.cpp)
  set_target_properties(fake_nvml_${_variant} PROPERTIES PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/tests)
  target_link_libraries(fake_nvml_${_variant} PRIVATE dcp_warnings)
endforeach()
target_compile_definitions(fake_nvml_v1 PRIVATE FAKE_NVML_V1)
target_compile_definitions(fake_nvml_no_fabric PRIVATE FAKE_NVML_NO_FABRIC)

dcp_unit_test(test_fabric_paths
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/fabric/test_nvml.cpp
    ${CMAKE_CURRENT_LIST_DIR}/fabric/test_peer_path.cpp
  LIBS dcp_nvml)
add_dependencies(test_fabric_paths fake_nvml_full fake_nvml_v1 fake_nvml_no_fabric)
target_compile_definitions(test_fabric_paths PRIVATE
  DCP_FAKE_NVML_FULL="$<TARGET_FILE:fake_nvml_full>"
  DCP_FAKE_NVML_V1="$<TARGET_FILE:fake_nvml_v1>"
  DCP_FAKE_NVML_NO_FABRIC="$<TARGET_FILE:fake_nvml_no_fabric>")

# test_fabric (full builds): workspace layout math, fd passing between threads (credentials,
# paths, cleanup, timeouts), and the messages that explain fabric/IMEX failures.
if(TARGET dcp_fabric)
  dcp_unit_test(test_fabric
    SOURCES
      ${CMAKE_CURRENT_LIST_DIR}/fabric/test_layout.cpp
      ${CMAKE_CURRENT_LIST_DIR}/fabric/test_explain.cpp
      ${CMAKE_CURRENT_LIST_DIR}/fabric/test_fd_passing.cpp
    LIBS dcp_fabric)
endif()
