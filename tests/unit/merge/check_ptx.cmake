# cmake "-DPTX=<file>|<file>..." -P check_ptx.cmake
# The merge's CUDA translation units compiled to PTX with the project's flags must contain no
# fp32 instruction that is fused (fma), flushed (.ftz), approximate, or free to be fused by
# ptxas (add/sub/mul.f32 without a rounding modifier), and must contain the explicitly rounded
# operations of the routine (so the check is not vacuous). fp64 instructions (the checker's
# fp64 error measurement) are not restricted.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" files "${PTX}")
set(forbidden
  "fma\\.[a-z0-9.]*f32"
  "mad\\.[a-z0-9.]*f32"
  "\\.ftz[a-z0-9.]*\\.f32"
  "(add|sub|mul)\\.(sat\\.)?f32"
  "(ex2|lg2|rcp|rsqrt|sqrt|sin|cos|tanh)\\.approx[a-z0-9.]*\\.f32"
  "div\\.(approx|full)[a-z0-9.]*\\.f32")
set(required "add\\.rn\\.f32" "sub\\.rn\\.f32" "mul\\.rn\\.f32" "div\\.rn\\.f32")
set(failed FALSE)
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no PTX files given")
endif()
foreach(f IN LISTS files)
  file(READ "${f}" text)
  string(REPLACE ";" "," text "${text}")  # PTX ends instructions with ';', a CMake list separator
  foreach(re IN LISTS forbidden)
    string(REGEX MATCHALL "[^\n]*${re}[^\n]*" hits "${text}")
    list(LENGTH hits n)
    if(n GREATER 0)
      list(GET hits 0 example)
      message(SEND_ERROR "${f}: ${n} instruction(s) matching '${re}', e.g.: ${example}")
      set(failed TRUE)
    endif()
  endforeach()
  foreach(re IN LISTS required)
    if(NOT text MATCHES "${re}")
      message(SEND_ERROR "${f}: no '${re}': the routine's rounded operations are missing")
      set(failed TRUE)
    endif()
  endforeach()
  string(REGEX MATCHALL "(add|sub|mul|div)\\.rn\\.f32" ops "${text}")
  list(LENGTH ops nops)
  message(STATUS "${f}: ${nops} explicitly rounded fp32 operations, none fused or flushed")
endforeach()
if(failed)
  message(FATAL_ERROR "the merge's PTX is not exact by construction")
endif()
