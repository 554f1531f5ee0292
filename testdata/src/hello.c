/* Dynamic executable fixture (glibc, musl and PE): prints a greeting through the C library. */
#include <stdio.h>

int main(void)
{
    puts("hello");
    return 0;
}
