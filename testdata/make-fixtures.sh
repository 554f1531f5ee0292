#!/usr/bin/env bash
# Regenerates elfcheck's binary test fixtures in testdata/bin/ from the sources in testdata/src/.
#
# Usage: bash testdata/make-fixtures.sh        (as root, or with sudo available, on Debian 12)
#
# - Installs the toolchains it needs from Debian packages, only when they are missing.
# - Builds everything from scratch into testdata/bin/ (the old contents are replaced).
# - Checks, for each fixture, the fact the tests rely on, and fails if a toolchain change broke one.
# - For the loader scenarios (bin/loader), also asks this machine's glibc loader what it finds
#   (loader-expectations.py) and fails if that differs from loader-expectations.tsv.
# - Is deterministic: fixed SOURCE_DATE_EPOCH, no build-ids, no timestamps, path-independent output,
#   so a rerun with the same Debian packages gives byte-identical files.
#
# Notes on the toolchain choices:
# - 32-bit x86 uses the i686-linux-gnu cross compiler (gcc-i686-linux-gnu) instead of `gcc -m32`:
#   Debian's gcc-multilib conflicts with gcc-aarch64-linux-gnu, so the two cannot be installed together.
# - Static glibc executables are several hundred KB, so the glibc "hello-static" fixtures are libc-free
#   (raw syscalls, -nostdlib -static): still real static executables (ET_EXEC, no PT_INTERP, no DT_NEEDED).
#   The musl static executable does link libc statically (musl is small).
# - The managed .NET assembly needs mono-mcs. If Debian has no mono-mcs candidate, that fixture is skipped.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/src
OUT=$HERE/bin

export SOURCE_DATE_EPOCH=1700000000
export LC_ALL=C TZ=UTC
umask 022

# ---------------------------------------------------------------------------------------------------
# Toolchains
# ---------------------------------------------------------------------------------------------------

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# command (or absolute path of a file) -> Debian package that provides it
TOOLS=(
    "gcc:gcc"
    "g++:g++"
    "aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu"
    "/usr/aarch64-linux-gnu/include/stdio.h:libc6-dev-arm64-cross"
    "i686-linux-gnu-gcc:gcc-i686-linux-gnu"
    "/usr/i686-linux-gnu/include/stdio.h:libc6-dev-i386-cross"
    "musl-gcc:musl-tools"
    "x86_64-w64-mingw32-gcc:mingw-w64"
    "i686-w64-mingw32-gcc:mingw-w64"
    "clang:clang"
    "ld.lld:lld"
    "llvm-config:llvm"
    "readelf:binutils"
    "ar:binutils"
    "file:file"
    "python3:python3"
    "javac:default-jdk-headless"
)

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        $SUDO apt-get update
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "$@"
}

have() { # have COMMAND-or-/ABSOLUTE/PATH
    case $1 in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

install_tools() {
    local missing=() entry cmd pkg
    for entry in "${TOOLS[@]}"; do
        cmd=${entry%%:*}
        pkg=${entry#*:}
        if ! have "$cmd"; then
            case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing: ${missing[*]}" >&2
        apt_install "${missing[@]}"
    fi
    # Optional: mono-mcs for the managed .NET assembly.
    if ! command -v mcs >/dev/null 2>&1; then
        if [ -z "$apt_updated" ]; then
            $SUDO apt-get update
            apt_updated=1
        fi
        local policy
        policy=$(apt-cache policy mono-mcs 2>/dev/null || true)
        if grep -q 'Candidate: [0-9]' <<<"$policy"; then
            apt_install mono-mcs
        else
            echo "mono-mcs is not available: skipping dotnet/Hello.dll" >&2
        fi
    fi
}

install_tools

LLVM_BIN=$(llvm-config --bindir)
export PATH="$PATH:$LLVM_BIN"   # llvm-lipo, ld64.lld, llvm-strip, llvm-objcopy, llvm-objdump

# ---------------------------------------------------------------------------------------------------
# Build functions
# ---------------------------------------------------------------------------------------------------

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Compile from inside src/ with relative names so no absolute path can reach the output.
cd "$SRC"

COMMON=(-Os -g0 -ffile-prefix-map="$SRC"=. -ffile-prefix-map="$WORK"=. -fno-ident)
ELF_LD=(-Wl,--build-id=none -Wl,--hash-style=gnu -Wl,-z,noexecstack)

elf_strip() { llvm-strip --strip-all "$@"; }

# so CC OUTPUT SOURCES-AND-LINK-ARGS...: a stripped ELF shared object at bin/OUTPUT
so() {
    local cc=$1 out=$2
    shift 2
    mkdir -p "$(dirname "$OUT/$out")"
    "$cc" "${COMMON[@]}" -fPIC -shared "${ELF_LD[@]}" -o "$OUT/$out" "$@"
    elf_strip "$OUT/$out"
}

# ---------------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------------

rm -rf "$OUT"
mkdir -p "$OUT"/{x86_64/rpath/lib,aarch64,i386,musl,macho,pe,dotnet,java,text}

## glibc x86_64
so gcc x86_64/libhello.so libhello.c -Wl,-soname,libhello.so
gcc "${COMMON[@]}" -fPIE -pie "${ELF_LD[@]}" -o "$OUT/x86_64/hello" hello.c
elf_strip "$OUT/x86_64/hello"
gcc "${COMMON[@]}" -fno-pie -no-pie -static -nostdlib -fno-stack-protector "${ELF_LD[@]}" \
    -o "$OUT/x86_64/hello-static" hello-static-nolibc.c
elf_strip "$OUT/x86_64/hello-static"

so gcc x86_64/libstatx.so statx.c -Wl,-soname,libstatx.so
so gcc x86_64/libneeds-2.34.so needs-2.34.c -Wl,-soname,libneeds-2.34.so
so gcc x86_64/libneeds-2.36.so needs-2.36.c -Wl,-soname,libneeds-2.36.so

# C++: libstdc++ stays dynamic (the default for -shared with g++).
so g++ x86_64/libcxx-new.so cxx-new.cpp -Wl,-soname,libcxx-new.so
so g++ x86_64/libcxx-old.so cxx-old.cpp -Wl,-soname,libcxx-old.so

# RUNPATH: libuses-bundled.so -> $ORIGIN/lib/libbundled.so.1
so gcc x86_64/rpath/lib/libbundled.so.1 bundled.c -Wl,-soname,libbundled.so.1
ln -s "$OUT/x86_64/rpath/lib/libbundled.so.1" "$WORK/libbundled.so"
gcc "${COMMON[@]}" -fPIC -shared "${ELF_LD[@]}" -Wl,-soname,libuses-bundled.so \
    -o "$OUT/x86_64/rpath/libuses-bundled.so" uses-bundled.c \
    -L"$WORK" -lbundled -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/lib'
elf_strip "$OUT/x86_64/rpath/libuses-bundled.so"

# Missing dependency: link against a throwaway libnotthere.so.3 that is not kept.
gcc "${COMMON[@]}" -fPIC -shared "${ELF_LD[@]}" -Wl,-soname,libnotthere.so.3 \
    -o "$WORK/libnotthere.so" notthere.c
so gcc x86_64/libmissing-dep.so missing-dep.c -Wl,-soname,libmissing-dep.so -L"$WORK" -lnotthere

# No section headers at all: only program headers (PT_DYNAMIC) are left to find DT_NEEDED/DT_VERNEED.
llvm-objcopy --strip-sections "$OUT/x86_64/libstatx.so" "$OUT/x86_64/libstatx-nosections.so"

# CPython extension and Node addons
so gcc x86_64/pyext.so pyext.c
so gcc x86_64/addon-v108.node addon-v108.c
so gcc x86_64/addon-napi.node addon-napi.c

# Static archive (D: zero timestamps/uids in member headers)
gcc "${COMMON[@]}" -fPIC -c -o "$WORK/libhello.o" libhello.c
rm -f "$OUT/x86_64/libhello.a"
(cd "$WORK" && ar rcsD "$OUT/x86_64/libhello.a" libhello.o)

## Loader search scenarios (x86_64): one directory per rule of glibc's library search, laid out as
## the files sit in a Lambda package (paths inside bin/loader/SCENARIO = paths in the package; the
## only-in-layer scenario holds a function/ and a layer/). Libc-free (-nostdlib) and without
## relro or a separate code segment, so each file is about 1.4 KB. Nothing references a symbol
## of another library: --no-as-needed keeps every DT_NEEDED, and loading tests only the search.
## What the real loader finds for each root is in testdata/loader-expectations.tsv, checked below.
LOADER=$OUT/loader
LOADER_CC=("${COMMON[@]}" -fPIC -nostdlib)
LOADER_LD=(-shared -nostdlib "${ELF_LD[@]}" -Wl,-z,norelro -Wl,-z,noseparate-code -Wl,--no-as-needed)
# DT_RPATH / DT_RUNPATH: -Wl,--disable-new-dtags,-rpath,DIRS / -Wl,--enable-new-dtags,-rpath,DIRS

# loader_link SCENARIO PATH OBJECT [LINK-ARGS...]: links bin/loader/SCENARIO/PATH from inside the
# scenario directory (so -L dirs and path-like DT_NEEDED entries are package paths), then strips it.
loader_link() {
    local scen=$1 path=$2 obj=$3
    shift 3
    mkdir -p "$LOADER/$scen/$(dirname "$path")"
    (cd "$LOADER/$scen" && gcc "${LOADER_LD[@]}" -o "$path" "$obj" "$@")
    elf_strip "$LOADER/$scen/$path"
}
# loader_lib SCENARIO PATH SONAME|"" [LINK-ARGS...]: a library exporting elfck_<name from PATH>
loader_lib() {
    local scen=$1 path=$2 soname=$3 fn
    shift 3
    fn=elfck_$(basename "$path" | sed 's/^libelfck-//; s/\.so.*$//; s/[^A-Za-z0-9]/_/g')
    gcc "${LOADER_CC[@]}" -DFN="$fn" -c -o "$WORK/loader-$fn.o" loader/lib.c
    loader_link "$scen" "$path" "$WORK/loader-$fn.o" ${soname:+-Wl,-soname,"$soname"} "$@"
}
# loader_ext SCENARIO PATH [LINK-ARGS...]: a root shaped like a CPython extension (PyInit_<file stem>)
loader_ext() {
    local scen=$1 path=$2 mod
    shift 2
    mod=$(basename "$path" .so)
    gcc "${LOADER_CC[@]}" -DMODULE="$mod" -c -o "$WORK/loader-ext-$mod.o" loader/ext.c
    loader_link "$scen" "$path" "$WORK/loader-ext-$mod.o" "$@"
}
# retag_dynamic FILE OLD NEW: gives the one dynamic entry tagged OLD the tag NEW (ELF64 LE). GNU ld
# never writes DT_RPATH and DT_RUNPATH together, so the "both" objects get a DT_AUDIT entry (a
# string, written with --audit) that is turned into DT_RUNPATH afterwards.
retag_dynamic() {
    python3 - "$@" <<'PY'
import struct, sys
path, old, new = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
data = bytearray(open(path, "rb").read())
assert data[:6] == b"\x7fELF\x02\x01", "not ELF64 little-endian"
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
hits = []
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
    if p_type == 2:  # PT_DYNAMIC
        for at in range(p_offset, p_offset + p_filesz, 16):
            tag, = struct.unpack_from("<q", data, at)
            if tag == old:
                hits.append(at)
            if tag == 0:
                break
assert len(hits) == 1, "%s: %d entries tagged %#x" % (path, len(hits), old)
struct.pack_into("<q", data, hits[0], new)
open(path, "wb").write(data)
PY
}
DT_RUNPATH=0x1d
DT_AUDIT=0x6ffffefc

# rpath-inherited: m.so's DT_RPATH serves liba, and libb's need of libc2 two levels down.
s=rpath-inherited
loader_lib $s libs/libelfck-c2.so.1 libelfck-c2.so.1
loader_lib $s libs/libelfck-b.so.1 libelfck-b.so.1 -Llibs -l:libelfck-c2.so.1
loader_lib $s libs/libelfck-a.so.1 libelfck-a.so.1 -Llibs -l:libelfck-b.so.1 -Wl,-rpath-link,libs
loader_ext $s mod/m.so -Llibs -l:libelfck-a.so.1 -Wl,-rpath-link,libs -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../libs'
# $ORIGIN of an inherited entry is the directory of the object that carries it (mod/sub), not of
# the needing library (libs/: libs/../../libs would leave the package).
loader_ext $s mod/sub/deep.so -Llibs -l:libelfck-a.so.1 -Wl,-rpath-link,libs \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../../libs'

# runpath-not-inherited: the same tree under DT_RUNPATH; liba is found, libb is not.
s=runpath-not-inherited
loader_lib $s libs/libelfck-c2.so.1 libelfck-c2.so.1
loader_lib $s libs/libelfck-b.so.1 libelfck-b.so.1 -Llibs -l:libelfck-c2.so.1
loader_lib $s libs/libelfck-a.so.1 libelfck-a.so.1 -Llibs -l:libelfck-b.so.1 -Wl,-rpath-link,libs
loader_ext $s mod/m.so -Llibs -l:libelfck-a.so.1 -Wl,-rpath-link,libs -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../libs'

# runpath-disables-rpath: a needing object with DT_RUNPATH gets no inherited DT_RPATH; an object
# with both entries has its own DT_RPATH ignored, for its needs and for those of its dependencies.
s=runpath-disables-rpath
loader_lib $s libs/libelfck-b.so.1 libelfck-b.so.1
loader_lib $s libs/libelfck-r.so.1 libelfck-r.so.1 -Llibs -l:libelfck-b.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/nowhere'
loader_lib $s libs/libelfck-a.so.1 libelfck-a.so.1 -Llibs -l:libelfck-b.so.1
loader_ext $s mod/m.so -Llibs -l:libelfck-r.so.1 -Wl,-rpath-link,libs -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../libs'
loader_ext $s mod/both.so -Llibs -l:libelfck-b.so.1 \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../libs' -Wl,--audit,'$ORIGIN/../nowhere'
retag_dynamic "$LOADER/$s/mod/both.so" $DT_AUDIT $DT_RUNPATH
loader_ext $s mod/both_chain.so -Llibs -l:libelfck-a.so.1 -Wl,-rpath-link,libs \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../libs' -Wl,--audit,'$ORIGIN/../libs'
retag_dynamic "$LOADER/$s/mod/both_chain.so" $DT_AUDIT $DT_RUNPATH

# already-loaded: liby's need of liba (which liby cannot find itself) is met because m.so loaded
# liba first; late.so loads liby before anything has loaded liba, so the same need fails there.
s=already-loaded
loader_lib $s libs/libelfck-a.so.1 libelfck-a.so.1
loader_lib $s libs/libelfck-y.so.1 libelfck-y.so.1 -Llibs -l:libelfck-a.so.1
loader_lib $s libs/libelfck-w.so.1 libelfck-w.so.1 -Llibs -l:libelfck-a.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN'
loader_ext $s m.so -Llibs -l:libelfck-a.so.1 -l:libelfck-y.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/libs'
loader_ext $s late.so -Llibs -l:libelfck-y.so.1 -l:libelfck-w.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/libs'

# origin-in-layer: a layer (unpacked at /opt) whose $ORIGIN entries resolve inside the layer.
s=origin-in-layer
loader_lib $s python/elfck_layer.libs/libelfck-lw.so.1 libelfck-lw.so.1
loader_lib $s python/elfck_layer.libs/libelfck-lv.so.1 libelfck-lv.so.1 -Lpython/elfck_layer.libs -l:libelfck-lw.so.1
loader_ext $s python/elfck_layer/_ext.so -Lpython/elfck_layer.libs -l:libelfck-lv.so.1 \
    -Wl,-rpath-link,python/elfck_layer.libs -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../elfck_layer.libs'
loader_lib $s lib/elfck/libelfck-ls.so.1 libelfck-ls.so.1
loader_lib $s lib/libelfck-lr.so.1 libelfck-lr.so.1 -Llib/elfck -l:libelfck-ls.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/elfck'
loader_ext $s python/elfck_lr/_ext.so -Llib -l:libelfck-lr.so.1 -Wl,-rpath-link,lib/elfck

# only-in-layer: the function's m.so needs a library that only a layer's lib/ (/opt/lib) holds.
s=only-in-layer
loader_lib $s layer/lib/libelfck-onlylayer.so.1 libelfck-onlylayer.so.1
loader_lib $s layer/python/libelfck-pyonly.so.1 libelfck-pyonly.so.1
loader_ext $s function/m.so -Llayer/lib -l:libelfck-onlylayer.so.1
loader_ext $s function/n.so -Llayer/python -l:libelfck-pyonly.so.1

# needed-with-slash: a DT_NEEDED entry holding a slash is a path (relative to the working
# directory, /var/task on Lambda; $ORIGIN is expanded), never searched for. The libraries have no
# DT_SONAME, so the linker records the path it was given.
s=needed-with-slash
loader_lib $s vendor/libelfck-slash.so ""
loader_ext $s mod/m.so vendor/libelfck-slash.so
loader_lib $s vendor/libelfck-slash-origin.so ""
mkdir "$LOADER/$s/\$ORIGIN"   # so that the path below resolves at link time ($ORIGIN/.. = the scenario dir)
loader_ext $s mod/o.so '$ORIGIN/../vendor/libelfck-slash-origin.so'
rmdir "$LOADER/$s/\$ORIGIN"
loader_lib $s lib/libelfck-base.so.1 ""
mkdir -p "$LOADER/$s/elsewhere"
cp "$LOADER/$s/lib/libelfck-base.so.1" "$LOADER/$s/elsewhere/"
loader_ext $s mod/p.so elsewhere/libelfck-base.so.1
rm -r "$LOADER/$s/elsewhere"

# origin-braces: the ${ORIGIN} spelling, and a colon-separated list.
s=origin-braces
loader_lib $s libs/libelfck-c2.so.1 libelfck-c2.so.1
loader_lib $s libs/libelfck-b.so.1 libelfck-b.so.1
loader_lib $s libs/libelfck-a.so.1 libelfck-a.so.1 -Llibs -l:libelfck-b.so.1
loader_ext $s mod/m.so -Llibs -l:libelfck-a.so.1 -Wl,-rpath-link,libs -Wl,--disable-new-dtags,-rpath,'${ORIGIN}/../libs'
loader_ext $s mod/n.so -Llibs -l:libelfck-c2.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/nowhere:${ORIGIN}/../libs'

## glibc aarch64
# 4 KiB segment alignment instead of binutils' 64 KiB aarch64 default keeps these files ~5x smaller.
ELF_LD_GLIBC=("${ELF_LD[@]}")
ELF_LD=("${ELF_LD_GLIBC[@]}" -Wl,-z,max-page-size=4096)
so aarch64-linux-gnu-gcc aarch64/libhello.so libhello.c -Wl,-soname,libhello.so
aarch64-linux-gnu-gcc "${COMMON[@]}" -fPIE -pie "${ELF_LD[@]}" -o "$OUT/aarch64/hello" hello.c
elf_strip "$OUT/aarch64/hello"
aarch64-linux-gnu-gcc "${COMMON[@]}" -fno-pie -no-pie -static -nostdlib -fno-stack-protector "${ELF_LD[@]}" \
    -o "$OUT/aarch64/hello-static" hello-static-nolibc.c
elf_strip "$OUT/aarch64/hello-static"
so aarch64-linux-gnu-gcc aarch64/pyext.so pyext.c

ELF_LD=("${ELF_LD_GLIBC[@]}")

## glibc i386
so i686-linux-gnu-gcc i386/libhello.so libhello.c -Wl,-soname,libhello.so

## musl x86_64
musl-gcc "${COMMON[@]}" -fPIE -pie "${ELF_LD[@]}" -o "$OUT/musl/hello" hello.c
elf_strip "$OUT/musl/hello"
musl-gcc "${COMMON[@]}" -static "${ELF_LD[@]}" -o "$OUT/musl/hello-static" hello.c
elf_strip "$OUT/musl/hello-static"
so musl-gcc musl/libhello.so libhello.c -Wl,-soname,libhello.so

## Mach-O (no SDK: libc-free code, lld's Mach-O port)
MACHO=(-Os -g0 -ffile-prefix-map="$SRC"=. -fuse-ld=lld -nostdlib)
clang "${MACHO[@]}" -target arm64-apple-macos11 -dynamiclib \
    -Wl,-install_name,@rpath/libhello.dylib -o "$OUT/macho/libhello-arm64.dylib" macho-hello.c
clang "${MACHO[@]}" -target x86_64-apple-macos10.15 -dynamiclib \
    -Wl,-install_name,@rpath/libhello.dylib -o "$OUT/macho/libhello-x86_64.dylib" macho-hello.c
llvm-lipo -create -output "$OUT/macho/libhello-fat.dylib" \
    "$OUT/macho/libhello-arm64.dylib" "$OUT/macho/libhello-x86_64.dylib"
clang "${MACHO[@]}" -target arm64-apple-macos11 -bundle -o "$OUT/macho/pyext-arm64.so" pyext.c

## PE / COFF (mingw-w64)
MINGW=(-Os -g0 -ffile-prefix-map="$SRC"=. -fno-ident -s -Wl,--no-insert-timestamp)
# The DLLs skip mingw's DLL start-up code (about 30 KB): no entry point (allowed for a DLL), imports
# printf/puts straight from msvcrt.dll, and a fixed image base (the automatic one hashes the output path).
# The .exe keeps the normal start-up code.
PE_DLL=(-shared -nostdlib -D__USE_MINGW_ANSI_STDIO=0 -Wl,-e,0 -Wl,--disable-auto-image-base)
x86_64-w64-mingw32-gcc "${MINGW[@]}" "${PE_DLL[@]}" -o "$OUT/pe/hello.dll" libhello.c -lmsvcrt
x86_64-w64-mingw32-gcc "${MINGW[@]}" -o "$OUT/pe/hello.exe" hello.c
i686-w64-mingw32-gcc "${MINGW[@]}" "${PE_DLL[@]}" -o "$OUT/pe/hello32.dll" libhello.c -lmsvcrt
x86_64-w64-mingw32-gcc -Os -g0 -ffile-prefix-map="$SRC"=. -fno-ident -c -o "$OUT/pe/hello.o" libhello.c
x86_64-w64-mingw32-strip --strip-debug "$OUT/pe/hello.o"

## Managed .NET assembly
build_dotnet() {
    # mcs derives the module version id (MVID) from the assembly contents and writes a zero PE timestamp,
    # so its output is reproducible.
    mcs -nologo -target:library -optimize+ -debug- -out:"$OUT/dotnet/Hello.dll" Hello.cs
}
if command -v mcs >/dev/null 2>&1; then
    build_dotnet
else
    rmdir "$OUT/dotnet"
fi

## Java class file (--release 8: class-file major version 52, whatever JDK builds it)
javac -nowarn -Xlint:-options --release 8 -g:none -d "$WORK/java" Hello.java
cp "$WORK/java/Hello.class" "$OUT/java/Hello.class"

## Text look-alikes
printf 'MZ is the magic of DOS executables; this file is plain text that only starts like one.\n' \
    >"$OUT/text/mz-readme.txt"
printf '\177ELF\002\001\001\000\000\000' >"$OUT/text/short.bin"

# Reproducible modes and times
find "$OUT" -type f -exec chmod 0644 {} +
chmod 0755 "$OUT"/x86_64/hello "$OUT"/x86_64/hello-static "$OUT"/aarch64/hello "$OUT"/aarch64/hello-static \
    "$OUT"/musl/hello "$OUT"/musl/hello-static "$OUT"/pe/hello.exe
find "$OUT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# ---------------------------------------------------------------------------------------------------
# Checks: the facts the tests rely on
# ---------------------------------------------------------------------------------------------------

fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if ! "$@" >/dev/null 2>&1; then
        echo "FIXTURE CHECK FAILED: $what" >&2
        fail=1
    fi
}
has() { grep -q -e "$2" <<<"$1"; }
hasnt() { ! grep -q -e "$2" <<<"$1"; }
max_ver() { # max_ver PREFIX FILE: the highest PREFIX_x.y[.z] version a file needs
    readelf -V "$2" 2>/dev/null | grep -o "Name: $1_[0-9.]*" | sed "s/Name: $1_//" | sort -V | tail -1
}
info() { readelf -h -d -l -V -W "$1" 2>&1; }

b=$OUT
i=$(info "$b/x86_64/libhello.so")
check "x86_64/libhello.so: x86_64 DYN" has "$i" 'Machine:.*X86-64'
check "x86_64/libhello.so: max GLIBC 2.2.5" test "$(max_ver GLIBC "$b/x86_64/libhello.so")" = 2.2.5
i=$(info "$b/x86_64/hello")
check "x86_64/hello: PIE with ld-linux interp" has "$i" 'Requesting program interpreter: /lib64/ld-linux-x86-64.so.2'
check "x86_64/hello: DYN" has "$i" 'Type:.*DYN'
i=$(info "$b/x86_64/hello-static")
check "x86_64/hello-static: EXEC" has "$i" 'Type:.*EXEC'
check "x86_64/hello-static: no interp" hasnt "$i" 'INTERP'
check "x86_64/hello-static: no dynamic" hasnt "$i" 'NEEDED'
check "libstatx.so: max GLIBC 2.28" test "$(max_ver GLIBC "$b/x86_64/libstatx.so")" = 2.28
check "libneeds-2.34.so: max GLIBC 2.34" test "$(max_ver GLIBC "$b/x86_64/libneeds-2.34.so")" = 2.34
check "libneeds-2.36.so: max GLIBC 2.36" test "$(max_ver GLIBC "$b/x86_64/libneeds-2.36.so")" = 2.36
check "libcxx-new.so: GLIBCXX 3.4.30" test "$(max_ver GLIBCXX "$b/x86_64/libcxx-new.so")" = 3.4.30
check "libcxx-old.so: GLIBCXX <= 3.4.21" test "$(printf '%s\n' "$(max_ver GLIBCXX "$b/x86_64/libcxx-old.so")" 3.4.21 | sort -V | tail -1)" = 3.4.21
i=$(info "$b/x86_64/rpath/libuses-bundled.so")
check "libuses-bundled.so: NEEDED libbundled.so.1" has "$i" 'NEEDED.*\[libbundled.so.1\]'
check "libuses-bundled.so: RUNPATH \$ORIGIN/lib" has "$i" 'RUNPATH.*\[\$ORIGIN/lib\]'
check "libbundled.so.1: SONAME" has "$(info "$b/x86_64/rpath/lib/libbundled.so.1")" 'SONAME.*\[libbundled.so.1\]'
check "libmissing-dep.so: NEEDED libnotthere.so.3" has "$(info "$b/x86_64/libmissing-dep.so")" 'NEEDED.*\[libnotthere.so.3\]'
i=$(readelf -S -W "$b/x86_64/libstatx-nosections.so" 2>&1)
check "libstatx-nosections.so: no sections" has "$i" 'There are no sections'
i=$(readelf -d -W "$b/x86_64/libstatx-nosections.so" 2>&1)
check "libstatx-nosections.so: dynamic kept" has "$i" 'VERNEED'
check "pyext.so: PyInit_spam" has "$(readelf --dyn-syms -W "$b/x86_64/pyext.so")" ' PyInit_spam$'
check "aarch64/pyext.so: PyInit_spam" has "$(readelf --dyn-syms -W "$b/aarch64/pyext.so")" ' PyInit_spam$'
check "addon-v108.node: export" has "$(readelf --dyn-syms -W "$b/x86_64/addon-v108.node")" ' node_register_module_v108$'
check "addon-napi.node: export" has "$(readelf --dyn-syms -W "$b/x86_64/addon-napi.node")" ' napi_register_module_v1$'
check "libhello.a: ar magic" has "$(head -c 8 "$b/x86_64/libhello.a")" '^!<arch>$'
i=$(info "$b/aarch64/libhello.so")
check "aarch64/libhello.so: AArch64" has "$i" 'Machine:.*AArch64'
check "aarch64/libhello.so: max GLIBC 2.17" test "$(max_ver GLIBC "$b/aarch64/libhello.so")" = 2.17
check "aarch64/hello: interp" has "$(info "$b/aarch64/hello")" 'interpreter: /lib/ld-linux-aarch64.so.1'
i=$(info "$b/aarch64/hello-static")
check "aarch64/hello-static: EXEC" has "$i" 'Type:.*EXEC'
check "aarch64/hello-static: no interp" hasnt "$i" 'INTERP'
i=$(info "$b/i386/libhello.so")
check "i386/libhello.so: ELF32 386" has "$i" 'Class:.*ELF32'
check "i386/libhello.so: 80386" has "$i" 'Machine:.*80386'
check "musl/hello: musl interp" has "$(info "$b/musl/hello")" 'interpreter: /lib/ld-musl-x86_64.so.1'
i=$(info "$b/musl/hello-static")
check "musl/hello-static: no interp" hasnt "$i" 'INTERP'
check "musl/hello-static: no needed" hasnt "$i" 'NEEDED'
i=$(info "$b/musl/libhello.so")
check "musl/libhello.so: NEEDED libc.so" has "$i" 'NEEDED.*\[libc.so\]'
check "musl/libhello.so: no version needs" hasnt "$i" 'GLIBC'
check "libhello-fat.dylib: 2 archs" has "$(llvm-lipo -info "$b/macho/libhello-fat.dylib")" 'x86_64 arm64'
check "libhello-arm64.dylib: MH_DYLIB" has "$(llvm-objdump --macho --private-headers "$b/macho/libhello-arm64.dylib")" 'DYLIB'
check "pyext-arm64.so: MH_BUNDLE" has "$(llvm-objdump --macho --private-headers "$b/macho/pyext-arm64.so")" 'BUNDLE'
check "pyext-arm64.so: _PyInit_spam" has "$(llvm-objdump --macho --exports-trie "$b/macho/pyext-arm64.so")" '_PyInit_spam'
check "hello.dll: PE32+ DLL" has "$(file "$b/pe/hello.dll")" 'PE32+ executable (DLL)'
check "hello.exe: PE32+" has "$(file "$b/pe/hello.exe")" 'PE32+ executable (console)'
check "hello32.dll: PE32 DLL" has "$(file "$b/pe/hello32.dll")" 'PE32 executable (DLL)'
check "hello.o: COFF x86-64 magic" test "$(od -An -tx1 -N2 "$b/pe/hello.o" | tr -d ' ')" = 6486
if [ -f "$b/dotnet/Hello.dll" ]; then
    check "Hello.dll: .NET assembly" has "$(file "$b/dotnet/Hello.dll")" 'Mono/.Net assembly'
fi
check "Hello.class: CAFEBABE, major 52" test "$(od -An -tx1 -N8 "$b/java/Hello.class" | tr -d ' ')" = cafebabe00000034
check "short.bin: 10 bytes" test "$(wc -c <"$b/text/short.bin")" -eq 10

# Loader scenarios: the dynamic entries each scenario relies on, exactly and in order (NEEDED order
# matters to already-loaded), as `TAG value` joined by `|`.
dyn() {
    readelf -d -W "$1" 2>/dev/null | sed -n 's/.*(\(NEEDED\|SONAME\|RPATH\|RUNPATH\)).*\[\(.*\)\]$/\1 \2/p' | paste -sd'|'
}
dyn_is() { # dyn_is SCENARIO/PATH 'TAG value|TAG value...'
    check "loader/$1: dynamic entries are '$2' (readelf -d: '$(dyn "$b/loader/$1")')" test "$(dyn "$b/loader/$1")" = "$2"
}
dyn_is rpath-inherited/mod/m.so 'NEEDED libelfck-a.so.1|RPATH $ORIGIN/../libs'
dyn_is rpath-inherited/mod/sub/deep.so 'NEEDED libelfck-a.so.1|RPATH $ORIGIN/../../libs'
dyn_is rpath-inherited/libs/libelfck-a.so.1 'NEEDED libelfck-b.so.1|SONAME libelfck-a.so.1'
dyn_is rpath-inherited/libs/libelfck-b.so.1 'NEEDED libelfck-c2.so.1|SONAME libelfck-b.so.1'
dyn_is rpath-inherited/libs/libelfck-c2.so.1 'SONAME libelfck-c2.so.1'
dyn_is runpath-not-inherited/mod/m.so 'NEEDED libelfck-a.so.1|RUNPATH $ORIGIN/../libs'
dyn_is runpath-not-inherited/libs/libelfck-a.so.1 'NEEDED libelfck-b.so.1|SONAME libelfck-a.so.1'
dyn_is runpath-not-inherited/libs/libelfck-b.so.1 'NEEDED libelfck-c2.so.1|SONAME libelfck-b.so.1'
dyn_is runpath-not-inherited/libs/libelfck-c2.so.1 'SONAME libelfck-c2.so.1'
dyn_is runpath-disables-rpath/mod/m.so 'NEEDED libelfck-r.so.1|RPATH $ORIGIN/../libs'
dyn_is runpath-disables-rpath/mod/both.so 'NEEDED libelfck-b.so.1|RPATH $ORIGIN/../libs|RUNPATH $ORIGIN/../nowhere'
dyn_is runpath-disables-rpath/mod/both_chain.so 'NEEDED libelfck-a.so.1|RPATH $ORIGIN/../libs|RUNPATH $ORIGIN/../libs'
dyn_is runpath-disables-rpath/libs/libelfck-r.so.1 'NEEDED libelfck-b.so.1|SONAME libelfck-r.so.1|RUNPATH $ORIGIN/nowhere'
dyn_is runpath-disables-rpath/libs/libelfck-a.so.1 'NEEDED libelfck-b.so.1|SONAME libelfck-a.so.1'
dyn_is runpath-disables-rpath/libs/libelfck-b.so.1 'SONAME libelfck-b.so.1'
dyn_is already-loaded/m.so 'NEEDED libelfck-a.so.1|NEEDED libelfck-y.so.1|RUNPATH $ORIGIN/libs'
dyn_is already-loaded/late.so 'NEEDED libelfck-y.so.1|NEEDED libelfck-w.so.1|RUNPATH $ORIGIN/libs'
dyn_is already-loaded/libs/libelfck-a.so.1 'SONAME libelfck-a.so.1'
dyn_is already-loaded/libs/libelfck-y.so.1 'NEEDED libelfck-a.so.1|SONAME libelfck-y.so.1'
dyn_is already-loaded/libs/libelfck-w.so.1 'NEEDED libelfck-a.so.1|SONAME libelfck-w.so.1|RUNPATH $ORIGIN'
dyn_is origin-in-layer/python/elfck_layer/_ext.so 'NEEDED libelfck-lv.so.1|RPATH $ORIGIN/../elfck_layer.libs'
dyn_is origin-in-layer/python/elfck_layer.libs/libelfck-lv.so.1 'NEEDED libelfck-lw.so.1|SONAME libelfck-lv.so.1'
dyn_is origin-in-layer/python/elfck_layer.libs/libelfck-lw.so.1 'SONAME libelfck-lw.so.1'
dyn_is origin-in-layer/python/elfck_lr/_ext.so 'NEEDED libelfck-lr.so.1'
dyn_is origin-in-layer/lib/libelfck-lr.so.1 'NEEDED libelfck-ls.so.1|SONAME libelfck-lr.so.1|RUNPATH $ORIGIN/elfck'
dyn_is origin-in-layer/lib/elfck/libelfck-ls.so.1 'SONAME libelfck-ls.so.1'
dyn_is only-in-layer/function/m.so 'NEEDED libelfck-onlylayer.so.1'
dyn_is only-in-layer/function/n.so 'NEEDED libelfck-pyonly.so.1'
dyn_is only-in-layer/layer/lib/libelfck-onlylayer.so.1 'SONAME libelfck-onlylayer.so.1'
dyn_is only-in-layer/layer/python/libelfck-pyonly.so.1 'SONAME libelfck-pyonly.so.1'
dyn_is needed-with-slash/mod/m.so 'NEEDED vendor/libelfck-slash.so'
dyn_is needed-with-slash/mod/o.so 'NEEDED $ORIGIN/../vendor/libelfck-slash-origin.so'
dyn_is needed-with-slash/mod/p.so 'NEEDED elsewhere/libelfck-base.so.1'
dyn_is needed-with-slash/vendor/libelfck-slash.so ''
dyn_is needed-with-slash/vendor/libelfck-slash-origin.so ''
dyn_is needed-with-slash/lib/libelfck-base.so.1 ''
dyn_is origin-braces/mod/m.so 'NEEDED libelfck-a.so.1|RPATH ${ORIGIN}/../libs'
dyn_is origin-braces/mod/n.so 'NEEDED libelfck-c2.so.1|RUNPATH $ORIGIN/nowhere:${ORIGIN}/../libs'
dyn_is origin-braces/libs/libelfck-a.so.1 'NEEDED libelfck-b.so.1|SONAME libelfck-a.so.1'
dyn_is origin-braces/libs/libelfck-b.so.1 'SONAME libelfck-b.so.1'
dyn_is origin-braces/libs/libelfck-c2.so.1 'SONAME libelfck-c2.so.1'
loader_odd=
for f in $(find "$b/loader" -type f | sort); do
    i=$(readelf -h -V -W "$f" 2>&1)
    if hasnt "$i" 'Machine:.*X86-64' || has "$i" 'Version needs'; then loader_odd+=" $f"; fi
done
check "loader: every file is x86_64 without version needs:$loader_odd" test -z "$loader_odd"
check "loader: every scenario file is checked above" test "$(find "$b/loader" -type f | wc -l)" -eq 41
check "loader: PyInit_m in rpath-inherited/mod/m.so" has "$(readelf --dyn-syms -W "$b/loader/rpath-inherited/mod/m.so")" ' PyInit_m$'
# What this machine's glibc loader finds for every root (trace and dlopen), against the committed table.
if python3 "$HERE/loader-expectations.py" "$b/loader" >"$WORK/loader-observed.tsv"; then
    if ! diff -u "$HERE/loader-expectations.tsv" "$WORK/loader-observed.tsv" >&2; then
        echo "FIXTURE CHECK FAILED: the loader's results differ from testdata/loader-expectations.tsv (diff above)" >&2
        fail=1
    fi
else
    echo "FIXTURE CHECK FAILED: testdata/loader-expectations.py" >&2
    fail=1
fi

if [ "$fail" != 0 ]; then
    exit 1
fi
echo "fixtures written to $OUT ($(find "$OUT" -type f | wc -l) files, $(du -sb "$OUT" | cut -f1) bytes)"
