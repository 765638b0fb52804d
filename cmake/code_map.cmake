# The code map (daemon/README.md) as the build: one static library per
# folder, calloutd_<folder>, made of the folder's .cpp files and linking only
# the folders its row of the table lets it include. A folder is PUBLIC where a
# header of this folder includes that folder's headers (whoever includes ours
# compiles theirs too), PRIVATE where only our .cpp files do. The table can
# grant more than a folder links: a folder reached only through another
# folder's headers comes with that folder's PUBLIC libraries.
# tests/structure/code_map_test.cpp reads the calls below and fails on a
# folder one of them links that its row does not grant.
set(CALLOUTD_FOLDERS text base receivers config state writeup lint git journal metrics engine
    scanner pipeline sync http app ctl)

# calloutd_folder(<folder> [NO_UNITY] [PUBLIC deps...] [PRIVATE deps...]
#                 [SOURCES generated...] [EXCLUDE file...]): deps named in
# CALLOUTD_FOLDERS are the map's folders (calloutd_<dep>); anything else is a
# target or library as is. The sources are every .cpp of the folder (a file in
# the folder is in its library: no list to forget), less EXCLUDE, plus
# SOURCES. With CALLOUTD_UNITY, they are compiled a batch at a time (the
# headers they share parsed once); NO_UNITY where two of its files define the
# same name in their unnamed namespaces.
function(calloutd_folder folder)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_UNITY" "" "PUBLIC;PRIVATE;SOURCES;EXCLUDE")
  if(folder STREQUAL "receivers")
    set(dir ${CMAKE_SOURCE_DIR}/receivers)
  else()
    set(dir ${CMAKE_SOURCE_DIR}/daemon/${folder})
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  foreach(excluded ${arg_EXCLUDE})
    list(REMOVE_ITEM sources ${dir}/${excluded})
  endforeach()
  add_library(calloutd_${folder} STATIC ${sources} ${arg_SOURCES})
  if(CALLOUTD_UNITY AND NOT arg_NO_UNITY)
    set_target_properties(calloutd_${folder} PROPERTIES UNITY_BUILD ON)
  endif()
  target_include_directories(calloutd_${folder} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(calloutd_${folder} PUBLIC calloutd_settings PRIVATE calloutd_warnings)
  foreach(scope PUBLIC PRIVATE)
    foreach(dep ${arg_${scope}})
      if(dep IN_LIST CALLOUTD_FOLDERS)
        set(dep calloutd_${dep})
      endif()
      target_link_libraries(calloutd_${folder} ${scope} ${dep})
    endforeach()
  endforeach()
endfunction()

# Asio, for the folders whose code includes it. GCC's -Wtsan flags the
# std::atomic_thread_fence in Asio's headers (TSan cannot see fences); the
# warning is about Asio's code, not ours, so it is off only where Asio is
# compiled (it travels with the headers that include Asio) and only under TSan.
add_library(calloutd_asio INTERFACE)
target_link_libraries(calloutd_asio INTERFACE Boost::headers Threads::Threads)
# Asio's coroutines (the HTTP front): Boost 1.74 does not detect them under clang.
target_compile_definitions(calloutd_asio INTERFACE BOOST_ASIO_NO_DEPRECATED
  $<$<CXX_COMPILER_ID:Clang>:BOOST_ASIO_HAS_CO_AWAIT BOOST_ASIO_HAS_STD_COROUTINE>)
if(CALLOUTD_TSAN AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(calloutd_asio INTERFACE -Wno-tsan)
endif()

calloutd_folder(text)
# date/tz stays behind base/timezone.cpp: its definitions do not reach other code.
calloutd_folder(base PRIVATE text date::date-tz OpenSSL::Crypto PkgConfig::RE2)
calloutd_folder(receivers PUBLIC base PRIVATE text nlohmann_json::nlohmann_json OpenSSL::Crypto)
calloutd_folder(config PUBLIC base receivers PkgConfig::RE2 yaml-cpp
                       PRIVATE text nlohmann_json::nlohmann_json)
calloutd_folder(state PUBLIC base config receivers PRIVATE text nlohmann_json::nlohmann_json)
# NO_UNITY: k_handover_limit in both alert_text.cpp and pagerduty_text.cpp.
calloutd_folder(writeup NO_UNITY PUBLIC base config receivers state
                        PRIVATE text PkgConfig::RE2 PkgConfig::CMARK ${CMARK_EXTENSIONS_LIB}
                        SOURCES ${EMBEDDED_TEMPLATES_CPP})
target_include_directories(calloutd_writeup PRIVATE ${MUSTACHE_INCLUDE})
calloutd_folder(lint PRIVATE base text writeup PkgConfig::RE2
                     SOURCES ${CMAKE_BINARY_DIR}/generated/given_names.cpp)
# NO_UNITY: git_error_text() in both remote.cpp and repository.cpp.
calloutd_folder(git NO_UNITY PUBLIC base config
                    PRIVATE calloutd_asio PkgConfig::LIBGIT2 OpenSSL::SSL OpenSSL::Crypto
                            PkgConfig::RE2)
calloutd_folder(journal PUBLIC base PRIVATE nlohmann_json::nlohmann_json)
calloutd_folder(metrics PUBLIC prometheus-cpp::core PRIVATE base)
calloutd_folder(engine PUBLIC config git receivers state writeup
                       PRIVATE base text nlohmann_json::nlohmann_json PkgConfig::RE2)
calloutd_folder(pipeline PUBLIC engine journal metrics receivers calloutd_asio PRIVATE base)
calloutd_folder(scanner PUBLIC base git metrics pipeline receivers writeup calloutd_asio)
calloutd_folder(sync PUBLIC config engine git journal metrics pipeline PRIVATE base)
calloutd_folder(http PUBLIC base config metrics pipeline calloutd_asio OpenSSL::SSL OpenSSL::Crypto
                            nlohmann_json::nlohmann_json
                     PRIVATE engine receivers text)
calloutd_folder(app PUBLIC base config
                    PRIVATE engine git http journal metrics pipeline scanner sync writeup
                            PkgConfig::LIBGIT2 PkgConfig::SYSTEMD)
# calloutctl's commands; its main() stays in the executable.
calloutd_folder(ctl PUBLIC base git nlohmann_json::nlohmann_json
                    PRIVATE config engine lint text writeup PkgConfig::HTTPLIB
                    EXCLUDE calloutctl.cpp)

# Every folder, for what links the whole daemon (the benchmark, the fuzz
# targets, the tests' shared helpers).
add_library(calloutd_core INTERFACE)
foreach(folder ${CALLOUTD_FOLDERS})
  target_link_libraries(calloutd_core INTERFACE calloutd_${folder})
endforeach()
