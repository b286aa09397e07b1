# Runs one SMP stress workload in the port kernel under QEMU for CTest
# (label `qemu`, docs/port.md "SMP stress mode"):
#   cmake -DVMSIM=... -DKERNEL=... -DEXPECT=0|1 -P stress_test.cmake -- vmsim-port-run-args...
# Prints `SKIPPED: why` (the test's SKIP_REGULAR_EXPRESSION) when QEMU, qboot.rom
# or the kernel is missing or VMSIM_SKIP_QEMU=1. EXPECT is the exit code
# `vmsim port run` must end with: 0 for a pass, 1 for a violation (a run
# with a mutation switch on).
if("$ENV{VMSIM_SKIP_QEMU}" STREQUAL "1")
  message("SKIPPED: VMSIM_SKIP_QEMU=1")
  return()
endif()
if(DEFINED ENV{VMSIM_QEMU})
  set(qemu $ENV{VMSIM_QEMU})
else()
  find_program(qemu qemu-system-x86_64)
endif()
if(NOT qemu OR NOT EXISTS "${qemu}")
  message("SKIPPED: qemu-system-x86_64 not found (apt-get install qemu-system-x86 qemu-system-data)")
  return()
endif()
if(NOT DEFINED ENV{VMSIM_QEMU_BIOS})
  get_filename_component(prefix "${qemu}" DIRECTORY)
  get_filename_component(prefix "${prefix}" DIRECTORY)
  find_file(bios qboot.rom PATHS ${prefix}/share/qemu /usr/share/qemu /usr/local/share/qemu
            NO_DEFAULT_PATH)
  if(NOT bios)
    message("SKIPPED: QEMU firmware qboot.rom not found (apt-get install qemu-system-data)")
    return()
  endif()
endif()
if(NOT EXISTS "${KERNEL}")
  message("SKIPPED: no kernel at ${KERNEL} (cmake --build <build> --target vmsim-kernel)")
  return()
endif()

# The arguments after `--`.
set(args "")
set(seen FALSE)
foreach(i RANGE ${CMAKE_ARGC})
  if(seen)
    list(APPEND args "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(seen TRUE)
  endif()
endforeach()
execute_process(COMMAND ${VMSIM} port run --timeout 100 --kernel ${KERNEL} ${args}
                RESULT_VARIABLE code)
if(NOT code STREQUAL "${EXPECT}")
  message(FATAL_ERROR "vmsim port run ${args} ended with ${code}, expected ${EXPECT}")
endif()
