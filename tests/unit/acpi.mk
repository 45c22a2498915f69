UNIT_TESTS += acpi
unit_acpi_SRCS := arch/x86/acpi.c
