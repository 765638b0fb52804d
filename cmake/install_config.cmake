# `cmake --install` of the example calloutd.yml into `dir` from `shipped`: an
# existing, edited config is kept, and the shipped one goes next to it as
# calloutd.yml.dist to compare with (the Debian package does the same through
# dpkg's conffile handling). file(INSTALL) adds $DESTDIR itself.
set(installed "$ENV{DESTDIR}${dir}/calloutd.yml")
if(NOT EXISTS "${installed}")
  file(INSTALL "${shipped}" DESTINATION "${dir}")
  return()
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${shipped}" "${installed}"
                RESULT_VARIABLE differs)
if(differs)
  message(STATUS "Kept: ${installed} (edited; the shipped one is calloutd.yml.dist)")
  file(INSTALL "${shipped}" DESTINATION "${dir}" RENAME calloutd.yml.dist)
else()
  message(STATUS "Up-to-date: ${installed}")
endif()
