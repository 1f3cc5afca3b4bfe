# libFuzzer build (PARLEY_FUZZ, a build directory of its own, see
# scripts/fuzz.sh). Every target in the tree is compiled with coverage
# instrumentation and ASan + UBSan, so the fuzzer's feedback and the
# sanitizers see inside the libraries under test, not only the harness.
# Only the fuzz targets link libFuzzer itself (-fsanitize=fuzzer, in
# tests/fuzz); everything else links just the sanitizer runtimes.
if(PARLEY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PARLEY_FUZZ needs clang: configure with CXX=clang++")
  endif()
  # UBSan aborts at the first report, so libFuzzer sees it as a crash;
  # the ignore list names the third-party reports left out, and why.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer
                      -fsanitize-ignorelist=${CMAKE_CURRENT_SOURCE_DIR}/cmake/fuzz_ignorelist.txt)
  add_link_options(-fsanitize=address,undefined)
  # RapidJSON's member iterators trip clang's C++20 reversed-operator
  # warning: not our code (scripts/lint.sh passes the same flag).
  add_compile_options(-Wno-ambiguous-reversed-operator)
endif()
