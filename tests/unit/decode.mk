UNIT_TESTS += decode
unit_decode_SRCS := arch/x86/decode.c
