UNIT_TESTS += string
unit_string_SRCS := core/string.c
# Rename ours so libc keeps its own; the test compares the two.
unit_string_CFLAGS := -Dmemcpy=hv_memcpy -Dmemmove=hv_memmove -Dmemset=hv_memset \
	-Dmemcmp=hv_memcmp -Dstrlen=hv_strlen -Dstrnlen=hv_strnlen \
	-Dstrcmp=hv_strcmp -Dstrncmp=hv_strncmp -Dstrchr=hv_strchr
