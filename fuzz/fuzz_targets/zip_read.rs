//! Zip reading: central directory, entries, inflating, nested archives, classification.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = elfcheck::source::read_zip_bytes(data.to_vec(), &elfcheck::source::Limits::default());
});
