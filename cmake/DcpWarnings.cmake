# Warning flags for host code. CUDA translation units get the host flags through -Xcompiler only for
# the host side, without -Werror (nvcc's generated host stubs trip some of them).
add_library(dcp_warnings INTERFACE)
target_compile_options(dcp_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall -Xcompiler=-Wextra --Werror=all-warnings>)
if(DCP_WERROR)
  target_compile_options(dcp_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

if(DCP_SANITIZE)
  foreach(_flag -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:${_flag}>)
    add_link_options(${_flag})
  endforeach()
endif()
