/* Shared-library fixture (ELF and PE): one exported function that needs only puts/printf from the C library. */
#include <stdio.h>

void hello(const char *name)
{
    printf("hello, %s\n", name);
    puts("bye");
}
