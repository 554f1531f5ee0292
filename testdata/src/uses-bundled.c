/* RUNPATH fixture: needs libbundled.so.1, found through DT_RUNPATH $ORIGIN/lib. */
int bundled_value(void);

int uses_bundled(void)
{
    return bundled_value() + 1;
}
