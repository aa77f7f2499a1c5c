# merge unit tests: the merge routine and its arithmetic, the conversions, the reduce input
# pattern, the CPU reference and host checker, the kernel's plan (dcp_merge_host is CUDA-free,
# so all of these run in host-only and sanitizer builds too). -ffp-contract=off comes with
# dcp_merge_host (INTERFACE).
dcp_unit_test(merge_math_test SOURCES merge/merge_math_test.cpp LIBS dcp_merge_host)
dcp_unit_test(half_convert_test SOURCES merge/half_convert_test.cpp LIBS dcp_merge_host)
dcp_unit_test(merge_routine_test SOURCES merge/merge_routine_test.cpp LIBS dcp_merge_host)
dcp_unit_test(reduce_pattern_test SOURCES merge/reduce_pattern_test.cpp LIBS dcp_merge_host)
dcp_unit_test(merge_reference_test SOURCES merge/merge_reference_test.cpp LIBS dcp_merge_host)

# The routine is one source compiled by several compilers: the project's host compiler (with
# dcp_merge_host's flags), a second compiler at -O3 -march=native -ffp-contract=off, and a
# control with contraction on. merge_digest_compilers: the first two give the same bits;
# merge_digest_control: the control differs where the CPU has FMA (so the comparison can fail).
add_executable(merge_digest merge/merge_digest.cpp)
target_link_libraries(merge_digest PRIVATE dcp_merge_host)
set_target_properties(merge_digest PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  find_program(DCP_MERGE_OTHER_CXX NAMES clang++ clang++-14)
else()
  find_program(DCP_MERGE_OTHER_CXX NAMES g++)
endif()
set(_digest_src ${CMAKE_CURRENT_LIST_DIR}/merge/merge_digest.cpp)
set(_digest_deps ${_digest_src} ${PROJECT_SOURCE_DIR}/src/merge/exp_log.hpp
  ${PROJECT_SOURCE_DIR}/src/merge/merge_routine.hpp ${PROJECT_SOURCE_DIR}/src/merge/rounded_ops.hpp
  ${PROJECT_SOURCE_DIR}/src/merge/half_convert.hpp ${PROJECT_SOURCE_DIR}/src/merge/reduce_pattern.hpp)
set(_digest_dir ${CMAKE_BINARY_DIR}/bin/tests)
add_custom_command(OUTPUT ${_digest_dir}/merge_digest_control
  COMMAND ${CMAKE_CXX_COMPILER} -std=c++20 -O3 -march=native -ffp-contract=fast
    -I${PROJECT_SOURCE_DIR}/src ${_digest_src} -o ${_digest_dir}/merge_digest_control
  DEPENDS ${_digest_deps} COMMENT "merge_digest_control (contraction on)" VERBATIM)
set(_digest_outputs ${_digest_dir}/merge_digest_control)
if(DCP_MERGE_OTHER_CXX)
  add_custom_command(OUTPUT ${_digest_dir}/merge_digest_other
    COMMAND ${DCP_MERGE_OTHER_CXX} -std=c++20 -O3 -march=native -ffp-contract=off
      -I${PROJECT_SOURCE_DIR}/src ${_digest_src} -o ${_digest_dir}/merge_digest_other
    DEPENDS ${_digest_deps} COMMENT "merge_digest_other (${DCP_MERGE_OTHER_CXX})" VERBATIM)
  list(APPEND _digest_outputs ${_digest_dir}/merge_digest_other)
  add_test(NAME merge_digest_compilers COMMAND ${CMAKE_COMMAND}
    -DFIRST=$<TARGET_FILE:merge_digest> -DSECOND=${_digest_dir}/merge_digest_other -DMODE=equal
    -P ${CMAKE_CURRENT_LIST_DIR}/merge/compare_digests.cmake)
  set_tests_properties(merge_digest_compilers PROPERTIES LABELS unit TIMEOUT 120)
endif()
add_custom_target(merge_digest_builds ALL DEPENDS ${_digest_outputs})
add_test(NAME merge_digest_control COMMAND ${CMAKE_COMMAND}
  -DFIRST=$<TARGET_FILE:merge_digest> -DSECOND=${_digest_dir}/merge_digest_control -DMODE=differ
  -P ${CMAKE_CURRENT_LIST_DIR}/merge/compare_digests.cmake)
set_tests_properties(merge_digest_control PROPERTIES LABELS unit TIMEOUT 120
  SKIP_REGULAR_EXPRESSION "SKIP:")

# Full builds: the merge kernel's and device checker's PTX (same flags as dcp_merge) holds no
# fused, flushed or approximate fp32 instruction (tests/unit/merge/check_ptx.cmake).
if(TARGET dcp_merge_ptx)
  add_test(NAME merge_ptx_exact COMMAND ${CMAKE_COMMAND}
    "-DPTX=$<JOIN:$<TARGET_OBJECTS:dcp_merge_ptx>,|>"
    -P ${CMAKE_CURRENT_LIST_DIR}/merge/check_ptx.cmake)
  set_tests_properties(merge_ptx_exact PROPERTIES LABELS unit TIMEOUT 60)
endif()

# The model presets (configs/models/*.json) follow their schema (configs/models/README.md).
dcp_unit_test(model_presets_test SOURCES merge/model_presets_test.cpp
  LIBS nlohmann_json::nlohmann_json)
target_compile_definitions(model_presets_test PRIVATE DCP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# Strided delivered inputs (MergeStrides: [cp, E, D] receive buffers, packed rows with their LSE)
# and the error in ulps of the terms' magnitude (Accuracy::cond_ulp_max).
dcp_unit_test(merge_strides_test SOURCES merge/merge_strides_test.cpp LIBS dcp_merge_host)
