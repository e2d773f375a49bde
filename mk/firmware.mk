# mk/firmware.mk - make test-firmware: builds examples/firmware (aio in a
# Cortex-M3 super-loop with a SysTick clock and an interrupt post) and runs
# it under qemu-system-arm (mps2-an385, semihosting).  The run's exit status
# is the program's; FW_EXTRA adds compile flags (FW_EXTRA=-DFORCE_FAIL must
# turn it red).  Both runs use qemu's -icount: virtual time follows the
# instruction count, so the timing checks do not depend on the host's load.
#
# make test-readme-firmware: the firmware guide's program, extracted from
# docs/FIRMWARE.md, built for Cortex-M3 and run under qemu (embedded/readme_firmware.sh).

FW_BUILD ?= build/firmware
FW_CC ?= arm-none-eabi-gcc
FW_CFLAGS = -mcpu=cortex-m3 -mthumb -Os -ffreestanding -std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow \
	-Wimplicit-fallthrough -ffunction-sections -fdata-sections -g -I. $(FW_EXTRA)
FW_LDFLAGS = -nostdlib -T embedded/arm/cm3.ld -Wl,--gc-sections
FW_SRC = examples/firmware/firmware.c embedded/arm/startup.c embedded/libc.c
FW_QEMU = qemu-system-arm -M mps2-an385 -cpu cortex-m3 -icount shift=4 -display none -serial none -monitor none \
	-chardev stdio,id=shcon -semihosting-config enable=on,target=native,chardev=shcon

.PHONY: test-firmware test-readme-firmware firmware-install

firmware-install:
	@command -v $(FW_CC) >/dev/null && command -v qemu-system-arm >/dev/null || sh embedded/install.sh embedded

test-firmware: firmware-install
	@mkdir -p $(FW_BUILD)
	$(FW_CC) $(FW_CFLAGS) $(FW_LDFLAGS) $(FW_SRC) -lgcc -o $(FW_BUILD)/firmware.elf
	@arm-none-eabi-size $(FW_BUILD)/firmware.elf
	timeout 60 $(FW_QEMU) -kernel $(FW_BUILD)/firmware.elf </dev/null

test-readme-firmware: firmware-install
	EXTRA="$(FW_EXTRA)" sh embedded/readme_firmware.sh build/readme-firmware
