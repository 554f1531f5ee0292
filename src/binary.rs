//! Bytes to what the object file is: format, CPU, and what the loader will need.
//!
//! Files are identified by content, never by name. [`sniff`] looks at the first bytes only, so
//! that non-binaries are never read in full; [`classify`] parses a whole object file with goblin,
//! bounded and isolated: no input makes it panic, and a parse that fails becomes
//! [`Object::Unparseable`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use goblin::elf::Elf;
use goblin::elf::dynamic::DT_VERDEFNUM;
use goblin::elf::dynamic::{DF_1_PIE, DT_FLAGS_1};
use goblin::elf::header::{ELFCLASS32, ELFDATA2MSB, ET_DYN, ET_EXEC};
use goblin::elf::section_header::{SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM, SectionHeader};
use goblin::elf::symver::{VER_FLG_BASE, VerdefSection, VerneedSection, VersymSection};
use goblin::mach::{Mach, MultiArch, SingleArch};
use serde::Serialize;

/// How many leading bytes [`sniff`] needs.
pub const SNIFF_LEN: usize = 64;

/// Object files larger than this are not parsed (Lambda's own limit on a whole package is 250 MB).
pub const MAX_OBJECT_BYTES: u64 = 512 << 20;

/// Most entries kept from each list an ELF file declares: DT_NEEDED, DT_RPATH and DT_RUNPATH
/// entries, `.gnu.version_r` libraries, and the versions needed from each. Real files have tens;
/// a hostile one can point thousands of entries at one long string.
pub const MAX_LIST: usize = 1024;
/// Longest string kept (a library, a search path, a version or symbol name); longer ones are cut.
pub const MAX_STRING: usize = 4096;
/// Most symbols kept per version need, and for all version needs of one file together (they
/// serve as examples in messages).
pub const MAX_SYMBOLS_PER_NEED: usize = 32;
pub const MAX_SYMBOLS: usize = 512;
/// Most bytes the strings of one file's description may take, all lists together.
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// What the strings copied out of one object file may still take, in bytes (each string costs
/// its length plus its own header); a list cut short by it or by the bounds above is recorded
/// in [`ElfInfo::truncated`]. Every count and size the input controls is bounded before it is
/// copied: goblin hands out borrowed strings, and only what is kept here is allocated.
#[derive(Debug)]
pub struct StringBudget {
    left: usize,
    truncated: bool,
}

impl StringBudget {
    pub fn new(bytes: usize) -> StringBudget {
        StringBudget { left: bytes, truncated: false }
    }

    /// The bytes not used.
    pub fn left(&self) -> usize {
        self.left
    }

    /// A copy of `s`, cut to [`MAX_STRING`], or `None` once the budget is spent.
    fn keep(&mut self, s: &str) -> Option<String> {
        let cut = cut(s, MAX_STRING);
        self.truncated |= cut.len() < s.len();
        let cost = cut.len() + std::mem::size_of::<String>();
        if cost > self.left {
            self.truncated = true;
            return None;
        }
        self.left -= cost;
        Some(cut.to_string())
    }

    /// At most [`MAX_LIST`] of `items`, as far as the budget goes.
    fn list(&mut self, items: &[&str]) -> Vec<String> {
        self.truncated |= items.len() > MAX_LIST;
        items.iter().take(MAX_LIST).map_while(|s| self.keep(s)).collect()
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// What the first bytes of a file say it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Elf,
    MachO,
    /// `0xCAFEBABE` with a small architecture count: a universal Mach-O (a Java class file has its
    /// class-file version there, 45 or more).
    FatMachO,
    /// `MZ`: a PE file if a `PE\0\0` signature follows where the DOS header points.
    MaybePe,
    /// `!<arch>`: a static archive, linked at build time and never loaded at run time.
    StaticArchive,
    /// A zip archive (nested wheel, zip or jar).
    Zip,
}

impl Sniffed {
    /// Whether the whole file must be read to classify it.
    pub fn is_object(self) -> bool {
        !matches!(self, Sniffed::StaticArchive | Sniffed::Zip)
    }
}

impl Sniffed {
    /// The format the magic bytes claim, for messages about files that fail to parse.
    pub fn claimed_name(self) -> &'static str {
        match self {
            Sniffed::Elf => "ELF",
            Sniffed::MachO | Sniffed::FatMachO => "Mach-O",
            Sniffed::MaybePe => "PE",
            Sniffed::StaticArchive => "static archive",
            Sniffed::Zip => "zip",
        }
    }
}

pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    const MACHO_MAGICS: [[u8; 4]; 4] =
        [[0xfe, 0xed, 0xfa, 0xce], [0xce, 0xfa, 0xed, 0xfe], [0xfe, 0xed, 0xfa, 0xcf], [0xcf, 0xfa, 0xed, 0xfe]];
    if head.starts_with(b"\x7fELF") {
        return Some(Sniffed::Elf);
    }
    if head.len() >= 4 && MACHO_MAGICS.iter().any(|m| head.starts_with(m)) {
        return Some(Sniffed::MachO);
    }
    if head.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) || head.starts_with(&[0xca, 0xfe, 0xba, 0xbf]) {
        let n = head.get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        return match n {
            Some(n) if (1..45).contains(&n) => Some(Sniffed::FatMachO),
            _ => None,
        };
    }
    if head.starts_with(b"MZ") {
        return Some(Sniffed::MaybePe);
    }
    if head.starts_with(b"!<arch>\n") {
        return Some(Sniffed::StaticArchive);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Sniffed::Zip);
    }
    None
}

/// A classified object file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "format", rename_all = "kebab-case")]
pub enum Object {
    Elf(ElfInfo),
    MachO(MachOInfo),
    Pe(PeInfo),
    /// Could not be parsed; `format` says what the magic bytes claimed.
    Unparseable {
        claimed: &'static str,
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ElfInfo {
    /// 32 or 64.
    pub bits: u8,
    pub big_endian: bool,
    pub machine: u16,
    pub kind: ElfKind,
    pub interpreter: Option<String>,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    /// Has a dynamic section: the loader reads its needs. A static executable has none.
    pub dynamic: bool,
    pub version_needs: Vec<VersionNeed>,
    /// The symbol versions the file defines (`GLIBCXX_3.4.30`), its own base name excluded: what
    /// a need of another object is checked against when the loader finds this file.
    pub version_defs: Vec<String>,
    /// The `NODE_MODULE_VERSION` of a `node_register_module_v<N>` export.
    pub node_module_version: Option<u32>,
    /// Exports `napi_register_module_v1`: ABI-stable across Node versions.
    pub napi: bool,
    /// Exports `PyInit_<name>`: a CPython extension module.
    pub python_init: Option<String>,
    /// A list or string above was cut to the bounds of [`StringBudget`] (hostile or corrupt
    /// input): what the file needs may be incomplete.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// One `GLIBC_2.28`-style version that the file needs from a library (`.gnu.version_r`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VersionNeed {
    pub library: String,
    pub version: String,
    /// `VER_FLG_WEAK`: the loader only warns when it is missing.
    pub weak: bool,
    /// Undefined symbols bound to this version, sorted: examples for messages, at most
    /// [`MAX_SYMBOLS_PER_NEED`] of them.
    pub symbols: Vec<String>,
    /// How many undefined symbols are bound to this version in all.
    pub symbols_total: usize,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ElfKind {
    Executable,
    PieExecutable,
    SharedObject,
    Relocatable,
    Other,
}

#[derive(Debug, Clone, Serialize)]
pub struct MachOInfo {
    /// One architecture name per slice (`arm64`, `x86_64`); one entry for a thin file.
    pub arches: Vec<String>,
    pub fat: bool,
    /// `dylib`, `bundle`, `executable`, ...
    pub file_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeInfo {
    pub machine: String,
    pub dll: bool,
    /// A managed (.NET IL-only) assembly: runs on Lambda's .NET runtimes.
    pub managed: bool,
}

impl ElfInfo {
    /// The CPU name as Linux tools print it.
    pub fn machine_name(&self) -> String {
        elf_machine_name(self.machine)
    }

    /// Statically linked: no dynamic section, or one with no needs and no interpreter.
    pub fn is_static(&self) -> bool {
        !self.dynamic || (self.interpreter.is_none() && self.needed.is_empty())
    }

    pub fn is_musl(&self) -> bool {
        let musl_name = |n: &str| n.contains("ld-musl-") || n.starts_with("libc.musl-") || n == "libc.so";
        self.interpreter.as_deref().is_some_and(musl_name) || self.needed.iter().any(|n| musl_name(n))
    }

    /// The loader of `arch` can map it: 64-bit, little-endian, that CPU.
    pub fn runs_on(&self, arch: crate::target::Arch) -> bool {
        self.bits == 64 && !self.big_endian && self.machine_name() == arch.elf_name()
    }

    pub fn is_executable(&self) -> bool {
        matches!(self.kind, ElfKind::Executable | ElfKind::PieExecutable)
    }
}

pub fn elf_machine_name(machine: u16) -> String {
    use goblin::elf::header::*;
    match machine {
        EM_X86_64 => "x86_64".into(),
        EM_AARCH64 => "aarch64".into(),
        EM_386 => "i386".into(),
        EM_ARM => "arm".into(),
        EM_PPC64 => "ppc64".into(),
        EM_PPC => "ppc".into(),
        EM_S390 => "s390x".into(),
        EM_RISCV => "riscv".into(),
        EM_MIPS => "mips".into(),
        EM_LOONGARCH => "loongarch".into(),
        EM_SPARCV9 => "sparcv9".into(),
        other => format!("machine {other}"),
    }
}

impl Object {
    /// A short description for messages: `ELF 64-bit x86_64 shared object`, `Mach-O arm64 bundle`.
    pub fn describe(&self) -> String {
        match self {
            Object::Elf(e) => {
                let kind = match e.kind {
                    ElfKind::Executable | ElfKind::PieExecutable => "executable",
                    ElfKind::SharedObject => "shared object",
                    ElfKind::Relocatable => "relocatable object",
                    ElfKind::Other => "file",
                };
                format!("ELF {}-bit {} {kind}", e.bits, e.machine_name())
            }
            Object::MachO(m) => {
                let fat = if m.fat { "universal " } else { "" };
                format!("{fat}Mach-O {} {}", m.arches.join("+"), m.file_type)
            }
            Object::Pe(p) => {
                let what = if p.managed {
                    "managed .NET assembly"
                } else if p.dll {
                    "DLL"
                } else {
                    "executable"
                };
                format!("PE {} {what}", p.machine)
            }
            Object::Unparseable { claimed, .. } => format!("malformed {claimed}"),
        }
    }
}

/// Classifies a whole file that [`sniff`] called an object file. Returns `None` when the file
/// turns out not to be one (a text file that starts with `MZ`).
pub fn classify(kind: Sniffed, bytes: &[u8]) -> Option<Object> {
    classify_within(kind, bytes, &mut StringBudget::new(MAX_STRING_BYTES))
}

/// Bytes of an object file kept in memory: larger files are judged from their first bytes
/// ([`forget_section_headers`]), so that no object needs more memory than this.
pub const MAX_OBJECT_PREFIX: usize = 64 << 20;

/// For an ELF file of which only the first bytes are held: drops the section-header table from
/// the header (it lies at the end of the file), so the file is read as the loader reads it,
/// through its program headers and dynamic section, which lie at the start.
pub fn forget_section_headers(bytes: &mut [u8]) {
    let fields: &[(usize, usize)] = match bytes.get(4) {
        Some(&ELFCLASS32) => &[(0x20, 4), (0x30, 2), (0x32, 2)],
        Some(_) => &[(0x28, 8), (0x3c, 2), (0x3e, 2)],
        None => return,
    };
    for &(at, len) in fields {
        if let Some(field) = bytes.get_mut(at..at + len) {
            field.fill(0);
        }
    }
}

/// [`classify`], copying no more strings than `budget` allows (and taking them from it).
pub fn classify_within(kind: Sniffed, bytes: &[u8], budget: &mut StringBudget) -> Option<Object> {
    if !kind.is_object() {
        return None;
    }
    let claimed = kind.claimed_name();
    if kind == Sniffed::MaybePe && !has_pe_signature(bytes) {
        return None;
    }
    if bytes.len() < 16 {
        return Some(Object::Unparseable { claimed, reason: format!("file is only {} bytes", bytes.len()) });
    }
    // goblin is defensive but not proven against every hostile input: a panic is a finding too.
    IN_PARSER.with(|p| p.set(true));
    let parsed = catch_unwind(AssertUnwindSafe(|| match kind {
        Sniffed::Elf => parse_elf(bytes, budget).map(Object::Elf),
        Sniffed::MachO | Sniffed::FatMachO => parse_macho(bytes).map(Object::MachO),
        _ => parse_pe(bytes).map(Object::Pe),
    }));
    IN_PARSER.with(|p| p.set(false));
    Some(match parsed {
        Ok(Ok(object)) => object,
        Ok(Err(reason)) => Object::Unparseable { claimed, reason },
        Err(_) => Object::Unparseable { claimed, reason: "the parser failed on this file".into() },
    })
}

thread_local! {
    static IN_PARSER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps panics inside the object parser off stderr (they become findings); every other panic
/// is still printed.
pub fn quiet_parser_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_PARSER.with(|p| p.get()) {
            default(info);
        }
    }));
}

fn has_pe_signature(bytes: &[u8]) -> bool {
    let Some(off) = bytes.get(0x3c..0x40) else {
        return false;
    };
    let off = u32::from_le_bytes([off[0], off[1], off[2], off[3]]) as usize;
    off.checked_add(4).and_then(|end| bytes.get(off..end)) == Some(b"PE\0\0".as_slice())
}

fn parse_elf(bytes: &[u8], budget: &mut StringBudget) -> Result<ElfInfo, String> {
    let header = Elf::parse_header(bytes).map_err(|e| e.to_string())?;
    let bits = if header.e_ident[4] == ELFCLASS32 { 32 } else { 64 };
    let big_endian = header.e_ident[5] == ELFDATA2MSB;
    let indexed = strings_goblin_indexes(bytes, &header);
    if indexed > MAX_INDEXED_STRINGS {
        return Err(format!("its string tables hold {indexed} strings, over the limit of {MAX_INDEXED_STRINGS}"));
    }
    let elf = Elf::parse(bytes).map_err(|e| describe_goblin_error(&e))?;

    let pie =
        elf.dynamic.as_ref().is_some_and(|d| d.dyns.iter().any(|d| d.d_tag == DT_FLAGS_1 && d.d_val & DF_1_PIE != 0));
    let kind = match elf.header.e_type {
        ET_EXEC => ElfKind::Executable,
        ET_DYN if pie || (elf.interpreter.is_some() && elf.soname.is_none()) => ElfKind::PieExecutable,
        ET_DYN => ElfKind::SharedObject,
        goblin::elf::header::ET_REL => ElfKind::Relocatable,
        _ => ElfKind::Other,
    };

    let mut node_module_version = None;
    let mut napi = false;
    let mut python_init = None;
    for sym in elf.dynsyms.iter().filter(|s| s.st_shndx != 0) {
        let Some(name) = elf.dynstrtab.get_at(sym.st_name) else {
            continue;
        };
        if let Some(v) = name.strip_prefix("node_register_module_v") {
            node_module_version = v.parse().ok();
        } else if name.starts_with("napi_register_module_v") {
            napi = true;
        } else if let Some(module) = name.strip_prefix("PyInit_") {
            python_init = Some(cut(module, MAX_STRING).to_string());
        }
    }

    // The interpreter and soname are kept whatever the budget (cut to length): rules need them.
    let mut truncated = [elf.interpreter, elf.soname].iter().flatten().any(|s| s.len() > MAX_STRING);
    let interpreter = elf.interpreter.map(|s| cut(s, MAX_STRING).to_string());
    let soname = elf.soname.map(|s| cut(s, MAX_STRING).to_string());
    let needed = budget.list(&elf.libraries);
    let rpath = budget.list(&elf.rpaths);
    let runpath = budget.list(&elf.runpaths);
    let version_defs = version_defs(bytes, &elf, budget);
    let version_needs = version_needs(bytes, &elf, budget);
    truncated |= budget.truncated;
    Ok(ElfInfo {
        bits,
        big_endian,
        machine: elf.header.e_machine,
        kind,
        interpreter,
        soname,
        needed,
        rpath,
        runpath,
        dynamic: elf.dynamic.is_some(),
        version_needs,
        version_defs,
        node_module_version,
        napi,
        python_init,
        truncated,
    })
}

/// Most strings goblin may index in an ELF file's string tables: it lists every string of the
/// section-name table, the symbol table's names and the dynamic names (one 24-byte slot each), so
/// a table of N NUL bytes would cost 24 N bytes. Real files have well under a million.
const MAX_INDEXED_STRINGS: usize = 2 << 20;

/// How many strings goblin would index for this file (at most: one per NUL byte of each table).
fn strings_goblin_indexes(bytes: &[u8], header: &goblin::elf::Header) -> usize {
    use goblin::container::{Container, Ctx, Endian};
    use goblin::elf::section_header::{SHN_XINDEX, SHT_SYMTAB};
    use goblin::elf::{Dynamic, ProgramHeader};
    let container = if header.e_ident[4] == ELFCLASS32 { Container::Little } else { Container::Big };
    let endian = if header.e_ident[5] == ELFDATA2MSB { Endian::Big } else { Endian::Little };
    let ctx = Ctx::new(container, endian);
    let nuls = |offset: u64, size: u64| {
        let len = bytes.len() as u64;
        let (start, end) = (offset.min(len) as usize, offset.saturating_add(size).min(len) as usize);
        bytes[start..end].iter().filter(|b| **b == 0).count()
    };
    let mut n = 0;
    if let Ok(sections) = SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx) {
        let table = |i: usize| {
            let i =
                if i == SHN_XINDEX as usize { sections.first().map_or(usize::MAX, |s| s.sh_link as usize) } else { i };
            sections.get(i).map_or(0, |s| nuls(s.sh_offset, s.sh_size))
        };
        n += table(header.e_shstrndx as usize);
        if let Some(symtab) = sections.iter().rfind(|s| s.sh_type == SHT_SYMTAB) {
            n += table(symtab.sh_link as usize);
        }
    }
    if let Ok(phdrs) = ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx)
        && let Ok(Some(dynamic)) = Dynamic::parse(bytes, &phdrs, ctx)
    {
        n += nuls(dynamic.info.strtab as u64, dynamic.info.strsz as u64);
    }
    n
}

/// Reads `.gnu.version_r` through the dynamic section (DT_VERNEED, DT_VERNEEDNUM, DT_VERSYM),
/// which is what the loader reads too: this works when the section headers are stripped.
fn version_needs(bytes: &[u8], elf: &Elf, budget: &mut StringBudget) -> Vec<VersionNeed> {
    let Some(dynamic) = &elf.dynamic else {
        return Vec::new();
    };
    let info = &dynamic.info;
    if info.verneed == 0 || info.verneednum == 0 {
        return Vec::new();
    }
    let section = |sh_type, offset: u64, size: u64, count: u64| SectionHeader {
        sh_type,
        sh_offset: offset,
        sh_size: size,
        sh_info: count as u32,
        ..SectionHeader::default()
    };
    let container = if elf.is_64 { goblin::container::Container::Big } else { goblin::container::Container::Little };
    let endian = if elf.little_endian { goblin::container::Endian::Little } else { goblin::container::Endian::Big };
    let ctx = goblin::container::Ctx::new(container, endian);
    let rest = (bytes.len() as u64).saturating_sub(info.verneed);
    let need_shdr = [section(SHT_GNU_VERNEED, info.verneed, rest, info.verneednum)];
    let Ok(Some(verneed)) = VerneedSection::parse(bytes, &need_shdr, ctx) else {
        return Vec::new();
    };

    // vna_other -> (library, version, weak); at most MAX_LIST in all, however many the file lists.
    let mut needs: Vec<(u16, VersionNeed)> = Vec::new();
    'files: for need in verneed.iter().take(MAX_LIST + 1) {
        let library = elf.dynstrtab.get_at(need.vn_file).unwrap_or("?");
        for aux in need.iter().take(MAX_LIST + 1) {
            let Some(version) = elf.dynstrtab.get_at(aux.vna_name) else {
                continue;
            };
            if needs.len() == MAX_LIST {
                budget.truncated = true;
                break 'files;
            }
            let (Some(library), Some(version)) = (budget.keep(library), budget.keep(version)) else {
                break 'files;
            };
            needs.push((
                aux.vna_other & 0x7fff,
                VersionNeed {
                    library,
                    version,
                    weak: aux.vna_flags & goblin::elf::symver::VER_FLG_WEAK != 0,
                    symbols: Vec::new(),
                    symbols_total: 0,
                },
            ));
        }
    }

    // The first need with each version index, as the loader matches them.
    let mut by_index: std::collections::HashMap<u16, usize> = std::collections::HashMap::new();
    for (i, (other, _)) in needs.iter().enumerate() {
        by_index.entry(*other).or_insert(i);
    }
    let mut symbols_left = MAX_SYMBOLS;
    if info.versym != 0 && !needs.is_empty() {
        let size = elf.dynsyms.len() as u64 * 2;
        let sym_shdr = [section(SHT_GNU_VERSYM, info.versym, size, 0)];
        if let Ok(Some(versym)) = VersymSection::parse(bytes, &sym_shdr, ctx) {
            for (i, sym) in elf.dynsyms.iter().enumerate() {
                if sym.st_shndx != 0 || sym.st_name == 0 {
                    continue; // defined here, or the null symbol
                }
                let Some(vs) = versym.get_at(i) else { break };
                let index = vs.version();
                let Some(&n) = by_index.get(&index) else { continue };
                let need = &mut needs[n].1;
                need.symbols_total += 1;
                // Symbols are examples for messages: cutting them loses nothing the rules judge,
                // so it does not mark the file as read in part.
                if symbols_left == 0
                    || need.symbols.len() == MAX_SYMBOLS_PER_NEED
                    || budget.left() < MAX_STRING_BYTES / 4
                {
                    continue;
                }
                let was_truncated = budget.truncated;
                let kept = elf.dynstrtab.get_at(sym.st_name).and_then(|name| budget.keep(name));
                budget.truncated = was_truncated;
                if let Some(name) = kept {
                    need.symbols.push(name);
                    symbols_left -= 1;
                }
            }
        }
    }
    let mut out: Vec<VersionNeed> = needs.into_iter().map(|(_, n)| n).collect();
    for n in &mut out {
        n.symbols.sort();
        n.symbols.dedup();
    }
    out
}

/// Reads `.gnu.version_d` through the dynamic section (DT_VERDEF, DT_VERDEFNUM), as the loader
/// does.
fn version_defs(bytes: &[u8], elf: &Elf, budget: &mut StringBudget) -> Vec<String> {
    let Some(dynamic) = &elf.dynamic else {
        return Vec::new();
    };
    let offset = dynamic.info.verdef;
    // goblin maps DT_VERDEFNUM as an address; it is a count.
    let count = dynamic.dyns.iter().find(|d| d.d_tag == DT_VERDEFNUM).map_or(0, |d| d.d_val);
    if offset == 0 || count == 0 {
        return Vec::new();
    }
    let shdr = [SectionHeader {
        sh_type: SHT_GNU_VERDEF,
        sh_offset: offset,
        sh_size: (bytes.len() as u64).saturating_sub(offset),
        sh_info: count.min(u32::MAX as u64) as u32,
        ..SectionHeader::default()
    }];
    let ctx = goblin::container::Ctx::new(
        if elf.is_64 { goblin::container::Container::Big } else { goblin::container::Container::Little },
        if elf.little_endian { goblin::container::Endian::Little } else { goblin::container::Endian::Big },
    );
    let Ok(Some(section)) = VerdefSection::parse(bytes, &shdr, ctx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for def in section.iter().take(MAX_LIST) {
        if def.vd_flags & VER_FLG_BASE != 0 {
            continue;
        }
        if let Some(aux) = def.iter().next()
            && let Some(name) = elf.dynstrtab.get_at(aux.vda_name).and_then(|n| budget.keep(n))
        {
            out.push(name);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn parse_macho(bytes: &[u8]) -> Result<MachOInfo, String> {
    match Mach::parse(bytes).map_err(|e| describe_goblin_error(&e))? {
        Mach::Binary(m) => Ok(MachOInfo {
            arches: vec![macho_cpu_name(m.header.cputype, m.header.cpusubtype)],
            fat: false,
            file_type: macho_file_type(m.header.filetype),
        }),
        Mach::Fat(fat) => fat_info(&fat),
    }
}

fn fat_info(fat: &MultiArch) -> Result<MachOInfo, String> {
    let arches = fat.arches().map_err(|e| describe_goblin_error(&e))?;
    if arches.is_empty() {
        return Err("universal Mach-O with no slices".into());
    }
    let mut names = Vec::new();
    let mut file_type = None;
    for (i, arch) in arches.iter().enumerate() {
        names.push(macho_cpu_name(arch.cputype, arch.cpusubtype));
        if file_type.is_none()
            && let Ok(SingleArch::MachO(m)) = fat.get(i)
        {
            file_type = Some(macho_file_type(m.header.filetype));
        }
    }
    Ok(MachOInfo { arches: names, fat: true, file_type: file_type.unwrap_or_else(|| "file".into()) })
}

fn macho_cpu_name(cputype: u32, cpusubtype: u32) -> String {
    use goblin::mach::cputype::*;
    match cputype {
        CPU_TYPE_ARM64 if cpusubtype & !CPU_SUBTYPE_MASK == 2 => "arm64e".into(), // CPU_SUBTYPE_ARM64E
        CPU_TYPE_ARM64 => "arm64".into(),
        CPU_TYPE_X86_64 => "x86_64".into(),
        CPU_TYPE_X86 => "i386".into(),
        CPU_TYPE_ARM => "arm".into(),
        CPU_TYPE_POWERPC => "ppc".into(),
        CPU_TYPE_POWERPC64 => "ppc64".into(),
        CPU_TYPE_ARM64_32 => "arm64_32".into(),
        other => format!("cputype {other}"),
    }
}

fn macho_file_type(filetype: u32) -> String {
    use goblin::mach::header::*;
    match filetype {
        MH_EXECUTE => "executable",
        MH_DYLIB => "dylib",
        MH_BUNDLE => "bundle",
        MH_OBJECT => "object",
        MH_DYLINKER => "dynamic linker",
        _ => "file",
    }
    .into()
}

fn parse_pe(bytes: &[u8]) -> Result<PeInfo, String> {
    let pe = goblin::pe::PE::parse(bytes).map_err(|e| describe_goblin_error(&e))?;
    let machine = match pe.header.coff_header.machine {
        goblin::pe::header::COFF_MACHINE_X86_64 => "x86_64".to_string(),
        goblin::pe::header::COFF_MACHINE_X86 => "i386".to_string(),
        goblin::pe::header::COFF_MACHINE_ARM64 => "arm64".to_string(),
        goblin::pe::header::COFF_MACHINE_ARMNT => "arm".to_string(),
        other => format!("machine 0x{other:04x}"),
    };
    // The CLR runtime header marks a .NET assembly; IL-only ones contain no native code.
    let managed = pe
        .header
        .optional_header
        .and_then(|oh| oh.data_directories.get_clr_runtime_header().copied())
        .is_some_and(|dd| dd.virtual_address != 0 && dd.size != 0)
        && clr_is_il_only(&pe, bytes);
    Ok(PeInfo { machine, dll: pe.is_lib, managed })
}

/// Reads the `Flags` of the CLR header (COMIMAGE_FLAGS_ILONLY = 1).
fn clr_is_il_only(pe: &goblin::pe::PE, bytes: &[u8]) -> bool {
    let Some(dd) = pe.header.optional_header.and_then(|oh| oh.data_directories.get_clr_runtime_header().copied())
    else {
        return false;
    };
    let Some(offset) = pe.sections.iter().find_map(|s| {
        let start = s.virtual_address;
        let end = start.checked_add(s.virtual_size.max(s.size_of_raw_data))?;
        (dd.virtual_address >= start && dd.virtual_address < end)
            .then(|| (dd.virtual_address - start) as usize + s.pointer_to_raw_data as usize)
    }) else {
        return false;
    };
    // cb(4) major(2) minor(2) metadata(8) flags(4)
    let Some(flags) = offset.checked_add(16).and_then(|o| bytes.get(o..o + 4)) else {
        return false;
    };
    u32::from_le_bytes([flags[0], flags[1], flags[2], flags[3]]) & 1 != 0
}

fn describe_goblin_error(e: &goblin::error::Error) -> String {
    let s = e.to_string();
    // goblin's messages are long and sometimes multi-line; keep the first line.
    s.lines().next().unwrap_or("malformed file").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_class_is_not_fat_macho() {
        // CAFEBABE, minor 0, major 52 (Java 8)
        let class = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 0x0a];
        assert_eq!(sniff(&class), None);
        let fat = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2, 0, 0, 0, 0];
        assert_eq!(sniff(&fat), Some(Sniffed::FatMachO));
    }

    #[test]
    fn text_starting_with_mz_is_not_pe() {
        let text = b"MZ is the signature of DOS executables, and this is a text file about it.";
        assert_eq!(sniff(text), Some(Sniffed::MaybePe));
        assert!(classify(Sniffed::MaybePe, text).is_none());
    }

    #[test]
    fn short_elf_is_unparseable() {
        let short = b"\x7fELF\x02\x01\x01\0\0\0";
        assert!(matches!(classify(Sniffed::Elf, short), Some(Object::Unparseable { .. })));
    }

    #[test]
    fn two_byte_coff_magic_is_not_an_object() {
        // x86_64 COFF object: machine 0x8664, little endian
        assert_eq!(sniff(&[0x64, 0x86, 0x05, 0x00]), None);
        assert_eq!(sniff(b"VZ\x64\x86"), None); // TE image
    }

    #[test]
    fn random_bytes_never_panic() {
        // A deterministic xorshift stream: every prefix length, behind every magic.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise = vec![0u8; 4096];
        for b in noise.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let magics: [&[u8]; 6] = [
            b"\x7fELF\x02\x01\x01",
            b"\x7fELF\x01\x02\x01",
            &[0xcf, 0xfa, 0xed, 0xfe],
            &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 3],
            b"MZ",
            b"\x7fELF",
        ];
        for magic in magics {
            for len in (0..noise.len()).step_by(37) {
                let mut bytes = magic.to_vec();
                bytes.extend_from_slice(&noise[..len]);
                if let Some(kind) = sniff(&bytes) {
                    let _ = classify(kind, &bytes);
                }
            }
        }
    }
}
