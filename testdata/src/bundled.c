/* Bundled dependency fixture: built as libbundled.so.1 (soname libbundled.so.1) and shipped next to its user under lib/. */
int bundled_value(void)
{
    return 42;
}
