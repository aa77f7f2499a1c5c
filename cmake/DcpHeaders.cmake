# Include roots that make the layering rules build rules (shared/docs/style.md §9-10).
#
# Each library gets its own include root, ${DCP_INCLUDE_ROOT}/<target>/<folder>/<header>, holding
# symbolic links to its own headers only. A library's include path is then its root plus the
# roots of what it links (usage requirements), so `#include "kernels/..."` from baseline/ fails
# to compile ("No such file or directory") instead of compiling by accident. No source moves:
# the links are made at configure time; a header not listed (or not globbed) in its library is
# not reachable at all.
#
#   dcp_library_headers(TARGET FOLDER <folder> [HEADERS h1 h2 ...] [EXCLUDE h3 ...])
#     HEADERS: the library's headers (relative to the calling CMakeLists.txt's folder, subfolders
#     allowed: groups/x.hpp is reached as <folder>/groups/x.hpp); default:
#     every *.hpp, *.cuh and *.h of the folder, minus EXCLUDE (for folders holding two libraries).
#
# The header self-containment check (tests/headers/) compiles every registered .hpp alone with
# the host compiler, with exactly its library's include path.

set(DCP_INCLUDE_ROOT ${CMAKE_BINARY_DIR}/include)

function(dcp_library_headers target)
  cmake_parse_arguments(ARG "" "FOLDER" "HEADERS;EXCLUDE" ${ARGN})
  if(NOT ARG_FOLDER)
    message(FATAL_ERROR "dcp_library_headers(${target}): FOLDER is required")
  endif()
  set(dir ${CMAKE_CURRENT_LIST_DIR})
  if(NOT ARG_HEADERS)
    file(GLOB ARG_HEADERS RELATIVE ${dir} CONFIGURE_DEPENDS
      ${dir}/*.hpp ${dir}/*.cuh ${dir}/*.h)
    if(ARG_EXCLUDE)
      list(REMOVE_ITEM ARG_HEADERS ${ARG_EXCLUDE})
    endif()
  endif()
  set(root ${DCP_INCLUDE_ROOT}/${target})
  # Made afresh at every configure, so a removed or moved header leaves no stale link behind.
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root}/${ARG_FOLDER})
  foreach(h ${ARG_HEADERS})
    if(NOT EXISTS ${dir}/${h})
      message(FATAL_ERROR "dcp_library_headers(${target}): ${dir}/${h} does not exist")
    endif()
    # A header in a subfolder (e.g. diag's groups/x.hpp) keeps its relative path.
    get_filename_component(sub ${root}/${ARG_FOLDER}/${h} DIRECTORY)
    file(MAKE_DIRECTORY ${sub})
    file(CREATE_LINK ${dir}/${h} ${root}/${ARG_FOLDER}/${h} SYMBOLIC)
  endforeach()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${root})
  else()
    target_include_directories(${target} PUBLIC ${root})
  endif()
  set_property(GLOBAL APPEND PROPERTY DCP_HEADER_TARGETS ${target})
  set_property(GLOBAL PROPERTY DCP_HEADERS_${target} ${ARG_HEADERS})
  set_property(GLOBAL PROPERTY DCP_HEADER_FOLDER_${target} ${ARG_FOLDER})
endfunction()
