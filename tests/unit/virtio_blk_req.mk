UNIT_TESTS += virtio_blk_req
unit_virtio_blk_req_SRCS := vdev/virtio_blk_req.c
