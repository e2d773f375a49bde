# mk/portability.mk - portability and firmware targets (included by the
# Makefile).  Each target installs the Debian packages it needs first
# (embedded/install.sh: apt-get only when something is missing).
#
#   make test-embedded   tests/embedded/test_embedded.c, -ffreestanding
#                        -DAIO_NO_OS, under emulation: Cortex-M3 (qemu
#                        mps2-an385), Cortex-M0 (qemu microbit), RISC-V
#                        rv32imac (qemu virt), AVR ATmega2560 (simavr), and
#                        natively.  EXTRA=-DFORCE_FAIL plants a failing check
#                        and must turn every target red.
#   make test-cross      the hosted suite (tests/test_*.c) on aarch64, armhf,
#                        s390x (big-endian) and i386 under qemu-user.
#                        Per-target exclusions, with their reason, are the
#                        SKIP_<arch> lists in embedded/test_cross.sh.
#   make test-matrix     gcc and clang x -O0/-O2/-Os x c99/c11 x switch/labels
#                        on a subset of the suite (MATRIX_TESTS in
#                        embedded/test_matrix.sh); tcc and static musl on the
#                        suite less TCC_SKIP / MUSL_SKIP there (with the
#                        reasons); g++ (test-cxx).  -Werror throughout.
#   make size            flash/RAM of a minimal firmware program on Cortex-M3
#                        and AVR (default, AIO_LEAN, AIO_LEAN + AIO_STATIC),
#                        of the blink benchmark (embedded/blink.c) on
#                        Cortex-M3 and ATmega328P, sizeof of the main objects
#                        on 8-, 32- and 64-bit targets, and the footprint
#                        goals marked met or missed.
#   make embedded-install  install every package the above need.

.PHONY: test-embedded test-cross test-matrix size embedded-install

embedded-install:
	sh embedded/install.sh embedded cross matrix

test-embedded:
	sh embedded/install.sh embedded
	EXTRA="$(EXTRA)" sh embedded/test_embedded.sh build/embedded

test-cross:
	sh embedded/install.sh cross
	MAKE="$(MAKE)" sh embedded/test_cross.sh

test-matrix:
	sh embedded/install.sh matrix
	MAKE="$(MAKE)" sh embedded/test_matrix.sh

size:
	sh embedded/install.sh embedded cross
	sh embedded/size.sh build/size
