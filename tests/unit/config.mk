UNIT_TESTS += config
unit_config_SRCS := core/config.c core/cmdline.c
