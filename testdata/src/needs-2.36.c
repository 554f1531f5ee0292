/* Needs GLIBC_2.36: calls arc4random, which glibc first exported in 2.36. */
#include <stdint.h>
#include <stdlib.h>

uint32_t random_word(void)
{
    return arc4random();
}
