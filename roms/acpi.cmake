# The DSDT is ASL in roms/, compiled by iasl (Debian: acpica-tools) and
# embedded into the machine library as a C array (acpi_dsdt_aml).
find_program(IASL iasl)
if(NOT IASL)
  message(FATAL_ERROR "iasl not found: install acpica-tools (apt-get install acpica-tools; Homebrew: acpica)")
endif()
set(DSDT_ASL ${CMAKE_SOURCE_DIR}/roms/acpi-dsdt.asl)
set(DSDT_AML ${CMAKE_BINARY_DIR}/roms/acpi-dsdt.aml)
set(DSDT_C ${CMAKE_BINARY_DIR}/roms/acpi-dsdt.c)
add_custom_command(OUTPUT ${DSDT_AML}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/roms
  COMMAND ${IASL} -vs -vi -p ${CMAKE_BINARY_DIR}/roms/acpi-dsdt ${DSDT_ASL} > ${CMAKE_BINARY_DIR}/roms/acpi-dsdt.log
  DEPENDS ${DSDT_ASL} VERBATIM)
add_custom_command(OUTPUT ${DSDT_C}
  COMMAND ${CMAKE_COMMAND} -DIN=${DSDT_AML} -DOUT=${DSDT_C} -DNAME=acpi_dsdt_aml -P ${CMAKE_SOURCE_DIR}/roms/bin2c.cmake
  DEPENDS ${DSDT_AML} ${CMAKE_SOURCE_DIR}/roms/bin2c.cmake VERBATIM)
target_sources(svcore PRIVATE ${DSDT_C})
