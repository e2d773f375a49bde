# CMake package for aio, a header-only library.
#
#   find_package(aio 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE aio::aio)
#
#   find_package(aio 0.1 REQUIRED COMPONENTS tls)   # aio_tls.h over OpenSSL
#   target_link_libraries(app PRIVATE aio::tls)
#
# aio::aio is an INTERFACE target: it adds the header directory and links
# the threads library (needed by aio_thread.h; harmless otherwise).  One
# source file of the program defines AIO_IMPLEMENTATION before including
# the headers.
#
# The optional component `tls` defines aio::tls (aio::aio plus
# OpenSSL::SSL and OpenSSL::Crypto) when OpenSSL is found; asked for as
# REQUIRED without OpenSSL, find_package fails with a message that says so.
#
# Installed by `make install` into <prefix>/lib/cmake/aio; the header
# directory is found relative to this file, so a staged (DESTDIR) or moved
# installation works as long as the tree keeps its shape.  CMAKEDIR must
# stay three levels below the prefix (lib/cmake/aio).

if(NOT TARGET aio::aio)
    # The header directory, relative to the install prefix (make install
    # rewrites this line when INCLUDEDIR is not <prefix>/include/aio).
    set(_aio_include_dir "include/aio")
    get_filename_component(_aio_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
    if(IS_ABSOLUTE "${_aio_include_dir}")
        set(_aio_include "${_aio_include_dir}")
    else()
        set(_aio_include "${_aio_prefix}/${_aio_include_dir}")
    endif()
    if(NOT EXISTS "${_aio_include}/aio.h")
        set(aio_FOUND FALSE)
        set(aio_NOT_FOUND_MESSAGE "aio.h not found in ${_aio_include}")
        unset(_aio_include_dir)
        unset(_aio_prefix)
        unset(_aio_include)
        return()
    endif()

    include(CMakeFindDependencyMacro)
    set(THREADS_PREFER_PTHREAD_FLAG ON)
    find_dependency(Threads)

    add_library(aio::aio INTERFACE IMPORTED)
    set_target_properties(aio::aio PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${_aio_include}"
        INTERFACE_LINK_LIBRARIES Threads::Threads)
    set(aio_INCLUDE_DIRS "${_aio_include}")
    unset(_aio_include_dir)
    unset(_aio_prefix)
    unset(_aio_include)
endif()

# Optional component: tls (aio_tls.h over OpenSSL).
if(TARGET aio::aio AND NOT TARGET aio::tls)
    list(FIND aio_FIND_COMPONENTS tls _aio_want_tls)
    if(NOT _aio_want_tls EQUAL -1)
        find_package(OpenSSL QUIET)
        get_target_property(_aio_inc aio::aio INTERFACE_INCLUDE_DIRECTORIES)
        if(OPENSSL_FOUND AND EXISTS "${_aio_inc}/aio_tls.h")
            add_library(aio::tls INTERFACE IMPORTED)
            set_target_properties(aio::tls PROPERTIES
                INTERFACE_LINK_LIBRARIES "aio::aio;OpenSSL::SSL;OpenSSL::Crypto")
        endif()
        unset(_aio_inc)
    endif()
    unset(_aio_want_tls)
endif()
foreach(_aio_c IN LISTS aio_FIND_COMPONENTS)
    if(_aio_c STREQUAL "tls" AND TARGET aio::tls)
        set(aio_tls_FOUND TRUE)
    else()
        set(aio_${_aio_c}_FOUND FALSE)
        if(aio_FIND_REQUIRED_${_aio_c})
            set(aio_FOUND FALSE)
            if(_aio_c STREQUAL "tls")
                set(aio_NOT_FOUND_MESSAGE "component tls needs OpenSSL (libssl-dev) and aio_tls.h")
            else()
                set(aio_NOT_FOUND_MESSAGE "unknown component ${_aio_c} (aio has: tls)")
            endif()
        endif()
    endif()
endforeach()
unset(_aio_c)
