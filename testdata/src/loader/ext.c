/* Loader-search fixture root: shaped like a CPython extension module named by -DMODULE=name
 * (exports PyInit_<name>; no Python headers, no libc). What the loader must find for it comes from
 * the DT_NEEDED, DT_RPATH and DT_RUNPATH entries on its link line (see make-fixtures.sh). */
#ifndef MODULE
#error "build with -DMODULE=<module name>"
#endif

#define PYINIT_(name) PyInit_##name
#define PYINIT(name) PYINIT_(name)

__attribute__((visibility("default"))) void *PYINIT(MODULE)(void)
{
    return 0;
}
