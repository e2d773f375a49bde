/* embedded/host_plat.c - plat_puts for running the embedded suite natively. */
#include <stdio.h>
void plat_puts(const char *s);
void plat_puts(const char *s) { fputs(s, stdout); }
