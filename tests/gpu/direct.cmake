# kernels: the direct-store strategies (native-direct, direct-staged) in sim mode on one GPU.
# direct_test: bit-exact reduce and exchange over cp 1..8 and DeepSeek-V3 / D=128 shapes with
# fresh inputs, alternating cases, E = 0, graph replay, the skip-launch timeout naming peer and
# block, capacity refusal, the staged parts. direct_sim_bench: the benchmark print (not a ctest).
set(_dcp_direct_fill ${CMAKE_CURRENT_SOURCE_DIR}/direct_reduce_fill.cu)
# The fill computes the reduce pattern with the merge's rounded operations: the same flags as
# the merge checker it is compared against.
set_source_files_properties(${_dcp_direct_fill} PROPERTIES COMPILE_OPTIONS
  "-ftz=false;-prec-div=true;-prec-sqrt=true;--fmad=false")
dcp_gpu_test(direct_test
  SOURCES direct_test.cpp ${_dcp_direct_fill}
  LIBS dcp_kernels dcp_bench dcp_merge)
add_executable(direct_sim_bench direct_sim_bench.cpp ${_dcp_direct_fill})
target_link_libraries(direct_sim_bench PRIVATE dcp_kernels dcp_bench dcp_merge dcp_warnings)
set_target_properties(direct_sim_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
