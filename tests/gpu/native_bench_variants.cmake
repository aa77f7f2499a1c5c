# Extra native_sim_bench builds for before/after measurements in one GPU call (kernel author's
# tool, off by default; docs/perf/native-speed.md). Each variant compiles the kernel sources into
# its own executable, so that no two variants share a library:
#   DCP_NATIVE_BENCH_VARIANTS   list of NAME=DEFINES, DEFINES a comma-separated list of
#                               preprocessor definitions for the kernel sources, e.g.
#                               "w8=DCP_NATIVE_WARPS_PER_CTA=8;early=DCP_NATIVE_EARLY_TRIGGER=1"
#   DCP_NATIVE_BENCH_BASELINE   a folder holding an older kernels/ source tree (fused_alltoall.cu,
#                               the host .cpp files of kernels/ and their headers), e.g. the
#                               src/ of `git archive <parent> src`: builds native_sim_bench_base.
# A variant compiles fused_alltoall.cu and every .cpp of its tree's kernels/ folder.
set(DCP_NATIVE_BENCH_VARIANTS "" CACHE STRING "native_sim_bench variants: NAME=DEF1,DEF2;...")
set(DCP_NATIVE_BENCH_BASELINE "" CACHE PATH "older kernels/ tree for native_sim_bench_base")

# The merge routine's exactness flags for the fused reduce kernel's source (as src/kernels does).
function(dcp_exact_merge_sources)
  if(ARGN)
    set_source_files_properties(${ARGN} PROPERTIES
      COMPILE_OPTIONS "-ftz=false;-prec-div=true;-prec-sqrt=true;--fmad=false")
  endif()
endfunction()

function(dcp_native_bench_variant name kernel_root defines)
  set(target native_sim_bench_${name})
  file(GLOB host_sources ${kernel_root}/kernels/*.cpp)
  # Trees with the fused reduce kernel (native-fused, whose row impls.cpp names) compile it too.
  file(GLOB fused_sources ${kernel_root}/kernels/fused_reduce.cu)
  add_executable(${target}
    ${CMAKE_CURRENT_SOURCE_DIR}/native_sim_bench.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/native_floor.cu
    ${kernel_root}/kernels/fused_alltoall.cu
    ${fused_sources}
    ${host_sources})
  dcp_exact_merge_sources(${fused_sources})
  target_include_directories(${target} BEFORE PRIVATE ${kernel_root})
  target_compile_definitions(${target} PRIVATE ${defines})
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
  target_link_libraries(${target} PRIVATE dcp_bench dcp_fabric dcp_merge dcp_core_rt Threads::Threads
    dcp_warnings)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
endfunction()

# The GPU test suite against a variant's kernel (correctness of a candidate before it becomes the
# default): native_exchange_test_NAME.
function(dcp_native_test_variant name defines)
  set(target native_exchange_test_${name})
  file(GLOB host_sources ${PROJECT_SOURCE_DIR}/src/kernels/*.cpp)
  add_executable(${target}
    ${CMAKE_CURRENT_SOURCE_DIR}/native_exchange_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/gpu_test_main.cpp
    ${PROJECT_SOURCE_DIR}/src/kernels/fused_alltoall.cu
    ${PROJECT_SOURCE_DIR}/src/kernels/fused_reduce.cu
    ${host_sources})
  dcp_exact_merge_sources(${PROJECT_SOURCE_DIR}/src/kernels/fused_reduce.cu)
  # The kernel sources are compiled here, not linked from dcp_kernels: their headers come from
  # the source tree (the include roots of cmake/DcpHeaders.cmake only serve linked libraries).
  target_include_directories(${target} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${target} PRIVATE ${defines})
  target_link_libraries(${target} PRIVATE dcp_bench dcp_fabric dcp_merge dcp_core_rt Threads::Threads
    GTest::gtest dcp_warnings)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
endfunction()

foreach(variant IN LISTS DCP_NATIVE_BENCH_VARIANTS)
  string(FIND "${variant}" "=" eq)
  string(SUBSTRING "${variant}" 0 ${eq} name)
  math(EXPR rest "${eq} + 1")
  string(SUBSTRING "${variant}" ${rest} -1 defs)
  string(REPLACE "," ";" defs "${defs}")
  dcp_native_bench_variant(${name} ${PROJECT_SOURCE_DIR}/src "${defs}")
  dcp_native_test_variant(${name} "${defs}")
endforeach()
if(DCP_NATIVE_BENCH_BASELINE)
  dcp_native_bench_variant(base ${DCP_NATIVE_BENCH_BASELINE} "DCP_NATIVE_BENCH_BASELINE=1")
endif()
