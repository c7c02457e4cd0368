# Benchmarks: built with the tests, never run by ctest (they take seconds and measure time).
file(GLOB DS_BENCH_SOURCES CONFIGURE_DEPENDS ${DS_TESTS_DIR}/bench/bench_*.c)
foreach(src ${DS_BENCH_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${DS_TESTS_DIR}/unit)
  target_link_libraries(${name} PRIVATE ds_engine_internal)
endforeach()
