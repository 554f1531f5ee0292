/* Throwaway link-time stand-in for libnotthere.so.3; it is deleted after linking, so the dependency stays missing. */
int notthere_value(void)
{
    return 3;
}
