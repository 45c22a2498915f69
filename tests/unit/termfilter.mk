UNIT_TESTS += termfilter
unit_termfilter_SRCS := core/termfilter.c
