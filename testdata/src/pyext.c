/* CPython extension-module shape: exports PyInit_spam (no Python headers; returns NULL). */
#include <stddef.h>

__attribute__((visibility("default"))) void *PyInit_spam(void)
{
    return NULL;
}
