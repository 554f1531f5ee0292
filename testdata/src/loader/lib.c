/* Loader-search fixture library: exports one function, named by -DFN=name.
 * It references nothing, so loading it tests only where the loader finds it: its DT_NEEDED,
 * DT_SONAME, DT_RPATH and DT_RUNPATH entries all come from the link line (see make-fixtures.sh). */
#ifndef FN
#error "build with -DFN=<function name>"
#endif

int FN(void)
{
    return 1;
}
