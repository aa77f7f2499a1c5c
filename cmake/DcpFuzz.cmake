# DCP_FUZZ: coverage-guided fuzzing with libFuzzer (clang's compiler-rt; Debian: libclang-rt-14-dev).
# Every host library gets the fuzzer's coverage instrumentation (-fsanitize=fuzzer-no-link) plus
# AddressSanitizer and UndefinedBehaviorSanitizer, so a bug anywhere below a fuzz target is a
# crash the fuzzer sees; the targets in tests/fuzz/ add -fsanitize=fuzzer (libFuzzer's main).
# Host-only builds only: nvcc must never see these flags. docs/RELIABILITY.md#fuzzing says how to
# build and run them.
if(NOT DCP_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "DCP_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
if(NOT DCP_HOST_ONLY)
  message(FATAL_ERROR "DCP_FUZZ needs -DDCP_HOST_ONLY=ON (the fuzz targets are CUDA-free)")
endif()

# -fno-sanitize-recover: a UBSan finding aborts, so libFuzzer records it as a crash.
# _GLIBCXX_ASSERTIONS: libstdc++ bounds and precondition checks (operator[], front(), ...).
foreach(_flag -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -D_GLIBCXX_ASSERTIONS)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:${_flag}>)
endforeach()
# Debug keeps assert() (nlohmann's JSON_ASSERT included) but -O0 fuzzes slowly: -O1 instead.
add_compile_options($<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CONFIG:Debug>>:-O1>)
add_link_options(-fsanitize=address,undefined)
