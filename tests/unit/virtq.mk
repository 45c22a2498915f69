UNIT_TESTS += virtq
unit_virtq_SRCS := vdev/virtq.c
