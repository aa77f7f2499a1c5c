include(GoogleTest)

# Exit code a GPU test returns when the machine has no CUDA device; ctest reports it as skipped.
set(DCP_SKIP_RETURN_CODE 77)

# dcp_unit_test(NAME SOURCES ... LIBS ...): a GoogleTest executable that needs neither GPU nor MPI.
function(dcp_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main dcp_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)
endfunction()

# dcp_gpu_test(NAME SOURCES ... LIBS ...): a GoogleTest executable that needs one GPU. Its main
# (tests/gpu/gpu_test_main.cpp) exits 77 when there is no CUDA device, which ctest reports as
# SKIPPED; registered as one ctest entry so the skip is a single clean line.
function(dcp_gpu_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/gpu/gpu_test_main.cpp)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} dcp_core_rt GTest::gtest dcp_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS gpu SKIP_RETURN_CODE ${DCP_SKIP_RETURN_CODE}
    TIMEOUT 600)
endfunction()

# Environment for mpirun in tests: CI runs as root on 2 cores.
set(DCP_MPIRUN_ENV "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")

# dcp_mpi_test(NAME NP n COMMAND ... [GPU]): runs COMMAND under mpirun -np n. With GPU, the
# command exits 77 when there is no CUDA device (skipped).
function(dcp_mpi_test name)
  cmake_parse_arguments(ARG "GPU" "NP" "COMMAND" ${ARGN})
  add_test(NAME ${name}
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ARG_NP} --oversubscribe ${ARG_COMMAND})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${DCP_MPIRUN_ENV}" TIMEOUT 300
    LABELS mpi)
  if(ARG_GPU)
    set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE ${DCP_SKIP_RETURN_CODE})
  endif()
endfunction()
