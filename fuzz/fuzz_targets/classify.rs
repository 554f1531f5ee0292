//! Object classification: any bytes through `sniff` and `classify`.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The first byte picks a magic to put in front of the rest, so that the fuzzer spends its time
/// on what follows a magic rather than on finding one; 0 leaves the bytes as they are (the seeds
/// are the fixtures behind a 0).
const MAGICS: [&[u8]; 5] = [b"", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe\0\0\0", b"MZ"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = MAGICS[pick as usize % MAGICS.len()].to_vec();
    bytes.extend_from_slice(rest);
    if let Some(kind) = elfcheck::binary::sniff(&bytes) {
        let _ = elfcheck::binary::classify(kind, &bytes);
    }
});
