UNIT_TESTS += acpi_tables
# The host ACPI parser reads back what the table builder wrote.
unit_acpi_tables_SRCS := vdev/acpi_tables.c arch/x86/acpi.c
