# Install targets, included by the Makefile.
#
#   make install   [PREFIX=/usr/local] [DESTDIR=]   headers, aio.pc, aio-tls.pc, CMake package
#   make uninstall [PREFIX=/usr/local] [DESTDIR=]   removes exactly what install put there
#   make install-check                              installs into a scratch prefix, builds and
#                                                   runs a program through pkg-config and
#                                                   through CMake, uninstalls
#
# The headers go into their own directory, $(PREFIX)/include/aio: the C
# library already has a <aio.h> (POSIX asynchronous I/O) in /usr/include, and
# an aio.h in /usr/local/include would shadow it for every program built on
# the machine.  `pkg-config --cflags aio` and the CMake target aio::aio add
# -I$(PREFIX)/include/aio, so programs write #include "aio.h" as in this tree.
# aio_tls.h is optional: `pkg-config --libs aio-tls` (Requires: aio, openssl)
# and the CMake component `tls` (target aio::tls) add OpenSSL for the
# programs that include it; nothing else links -lssl -lcrypto.

PREFIX       ?= /usr/local
INCLUDEDIR   ?= $(PREFIX)/include/aio
LIBDIR       ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR     ?= $(LIBDIR)/cmake/aio
INSTALL      ?= install

# In aio.pc the header directory is written relative to ${prefix} when it
# lies under PREFIX.
PC_INCLUDEDIR  = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))
# In aioConfig.cmake it is relative to the prefix when it lies under PREFIX.
CM_INCLUDEDIR  = $(patsubst $(PREFIX)/%,%,$(INCLUDEDIR))
AIO_VERSION    := $(shell sed -n 's/^\#define AIO_VERSION_STRING "\(.*\)".*/\1/p' aio.h)
INSTALL_HDRS   := $(sort $(wildcard aio*.h))

.PHONY: install uninstall install-check

install:
	@test -n "$(AIO_VERSION)" || { echo "install: no AIO_VERSION_STRING in aio.h"; exit 1; }
	$(INSTALL) -d "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(PKGCONFIGDIR)" "$(DESTDIR)$(CMAKEDIR)"
	$(INSTALL) -m 644 $(INSTALL_HDRS) "$(DESTDIR)$(INCLUDEDIR)"
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(AIO_VERSION)|g' aio.pc.in > "$(DESTDIR)$(PKGCONFIGDIR)/aio.pc"
	chmod 644 "$(DESTDIR)$(PKGCONFIGDIR)/aio.pc"
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(AIO_VERSION)|g' aio-tls.pc.in > "$(DESTDIR)$(PKGCONFIGDIR)/aio-tls.pc"
	chmod 644 "$(DESTDIR)$(PKGCONFIGDIR)/aio-tls.pc"
	sed -e 's|^\( *set(_aio_include_dir \)"include/aio")|\1"$(CM_INCLUDEDIR)")|' \
	    cmake/aioConfig.cmake > "$(DESTDIR)$(CMAKEDIR)/aioConfig.cmake"
	chmod 644 "$(DESTDIR)$(CMAKEDIR)/aioConfig.cmake"
	sed -e 's|@VERSION@|$(AIO_VERSION)|g' cmake/aioConfigVersion.cmake.in \
	    > "$(DESTDIR)$(CMAKEDIR)/aioConfigVersion.cmake"
	chmod 644 "$(DESTDIR)$(CMAKEDIR)/aioConfigVersion.cmake"

# Removes every aio*.h from the header directory (also those of an older
# version), the pkg-config file and the CMake package, then the two
# directories that belong to aio alone if they are empty.
uninstall:
	rm -f "$(DESTDIR)$(INCLUDEDIR)"/aio*.h
	rm -f "$(DESTDIR)$(PKGCONFIGDIR)/aio.pc" "$(DESTDIR)$(PKGCONFIGDIR)/aio-tls.pc"
	rm -f "$(DESTDIR)$(CMAKEDIR)/aioConfig.cmake" "$(DESTDIR)$(CMAKEDIR)/aioConfigVersion.cmake"
	-rmdir "$(DESTDIR)$(CMAKEDIR)" 2>/dev/null
	-if [ "$(INCLUDEDIR)" != "$(PREFIX)/include" ]; then rmdir "$(DESTDIR)$(INCLUDEDIR)" 2>/dev/null; fi

install-check:
	sh tests/install/check_install.sh
