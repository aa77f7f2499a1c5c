# kernels unit tests: LL128 layout math, the reference packer, the CPU emulation of the FIFO
# protocol and the ordering model of the wire format (dcp_ll128 is pure host C++, so these run in
# host-only builds and in CI).
dcp_unit_test(ll128_layout_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/ll128_layout_test.cpp
  LIBS dcp_ll128)
dcp_unit_test(ll128_reference_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/ll128_reference_test.cpp
  LIBS dcp_ll128)
dcp_unit_test(ll128_emulation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/ll128_emulation_test.cpp
  LIBS dcp_ll128)
# The direct-store protocol and the fused kernels' plan (dcp_direct is pure host C++ as well):
# layout and workspace sizing, the ownership plan, the schemes' programs and their checker, and
# the CPU-thread emulation of the protocol over many calls.
dcp_unit_test(direct_layout_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/direct_layout_test.cpp
  LIBS dcp_direct)
dcp_unit_test(fused_plan_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/fused_plan_test.cpp
  LIBS dcp_direct)
dcp_unit_test(direct_protocol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/direct_protocol_test.cpp
  LIBS dcp_direct)
dcp_unit_test(direct_emulation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/direct_emulation_test.cpp
  LIBS dcp_direct)
dcp_unit_test(direct_kernel_host_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/direct_kernel_host_test.cpp
  LIBS dcp_direct)
# native-auto's crossover: file format, pick, derivation from measured results.
dcp_unit_test(crossover_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/crossover_test.cpp
  LIBS dcp_direct)
dcp_unit_test(ll128_ordering_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/ll128_ordering_test.cpp
  LIBS dcp_ll128)
dcp_unit_test(native_collective_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/native_collective_test.cpp
  LIBS dcp_ll128)
dcp_unit_test(hang_dump_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/hang_dump_test.cpp
  LIBS dcp_ll128)
# The fused LL128 exchange+merge kernel's data path (index functions, wire lines, staging, merge)
# on the CPU against the reference packer and the merge reference.
dcp_unit_test(fused_reduce_model_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/fused_reduce_model_test.cpp
  LIBS dcp_direct)
# Full builds: the fused reduce kernel's PTX holds no fused, flushed or approximate fp32
# instruction, and the merge routine's rounded operations (the merge's check, same script).
if(TARGET dcp_fused_reduce_ptx)
  add_test(NAME fused_reduce_ptx_exact COMMAND ${CMAKE_COMMAND}
    "-DPTX=$<JOIN:$<TARGET_OBJECTS:dcp_fused_reduce_ptx>,|>"
    -P ${CMAKE_CURRENT_LIST_DIR}/merge/check_ptx.cmake)
  set_tests_properties(fused_reduce_ptx_exact PROPERTIES LABELS unit TIMEOUT 60)
endif()
# Full builds: the direct kernels' PTX (the reduce runs the merge routine) holds no fused,
# flushed or approximate fp32 instruction (the merge's check, tests/unit/merge/check_ptx.cmake).
if(TARGET dcp_direct_ptx)
  add_test(NAME direct_ptx_exact COMMAND ${CMAKE_COMMAND}
    "-DPTX=$<JOIN:$<TARGET_OBJECTS:dcp_direct_ptx>,|>"
    -P ${CMAKE_CURRENT_LIST_DIR}/merge/check_ptx.cmake)
  set_tests_properties(direct_ptx_exact PROPERTIES LABELS unit TIMEOUT 60)
endif()
# Full builds: NativeDirect's host-side rules (capacity geometry, names, parts, refusals); links
# the kernels library but calls no CUDA function.
if(TARGET dcp_kernels)
  dcp_unit_test(native_direct_host_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/native_direct_host_test.cpp
    LIBS dcp_kernels)
endif()
