UNIT_TESTS += format
unit_format_SRCS := core/format.c
# Rename ours so libc keeps its snprintf; the test compares the two.
unit_format_CFLAGS := -Dvsnprintf=hv_vsnprintf -Dsnprintf=hv_snprintf
