# cmake -DBUILD_DIR=... -DTARGET=... -DHEADER=... -P expect_no_such_header.cmake
# Builds TARGET, whose one source includes HEADER, and passes only when the build fails because
# HEADER cannot be found (not for any other reason, and not by succeeding).
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled: '${HEADER}' is reachable from a library that must not "
                      "see it")
endif()
string(REGEX REPLACE "([][+.*()^$])" "\\\\\\1" header_re "${HEADER}")
if(NOT "${out}${err}" MATCHES "${header_re}: No such file or directory|'${header_re}' file not found")
  message(FATAL_ERROR "${TARGET} failed for another reason than a missing '${HEADER}':\n${out}${err}")
endif()
message(STATUS "${TARGET}: '${HEADER}' is not on the include path, as required")
