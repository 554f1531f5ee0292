/* Mach-O dylib fixture: libc-free exported function, so it links with lld without a macOS SDK. */
__attribute__((visibility("default"))) int hello_answer(void)
{
    return 42;
}
