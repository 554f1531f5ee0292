/* Missing-dependency fixture: needs libnotthere.so.3, which is shipped nowhere. */
int notthere_value(void);

int missing_dep(void)
{
    return notthere_value() * 2;
}
