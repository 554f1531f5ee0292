//! Reading one entry: a prefix for every entry, the rest only for the few that need it.
//!
//! Zip entries are inflated here rather than through the zip crate's reader: one decompressor
//! per thread is reset and reused (a fresh one per entry costs more than inflating a small
//! file), and the rest of an object file is inflated straight into its buffer, unzeroed.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};

/// An entry's bytes, read at most once.
pub(crate) trait EntryRead: Read {
    /// Appends the rest of the entry to `buf` (which holds what was read so far), stopping past
    /// `max` bytes in all; then checks the entry's integrity where the source records it.
    fn read_rest(&mut self, buf: &mut Vec<u8>, max: u64) -> io::Result<()> {
        let room = (max + 1).saturating_sub(buf.len() as u64);
        self.take(room).read_to_end(buf)?;
        Ok(())
    }

    /// Reads past the rest of the entry without keeping it, checking its integrity where the
    /// source records it.
    fn skip_rest(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink())?;
        Ok(())
    }
}

impl EntryRead for std::fs::File {
    /// A file on disk has nothing to check: its rest is not read at all.
    fn skip_rest(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const IN_CHUNK: usize = 64 << 10;

/// A decompressor and input buffer, reused for every entry a thread reads.
pub(crate) struct Inflater {
    state: Decompress,
    input: Box<[u8]>,
}

impl Inflater {
    pub(crate) fn new() -> Inflater {
        Inflater { state: Decompress::new(false), input: vec![0; IN_CHUNK].into_boxed_slice() }
    }
}

enum Method<'i> {
    Stored,
    Deflated { inflater: &'i mut Inflater, start: usize, end: usize, stream_end: bool },
}

/// The uncompressed bytes of one zip entry, checked against its size and CRC-32 when read whole.
pub(crate) struct ZipEntryReader<'r, 'i> {
    raw: &'r mut dyn Read,
    method: Method<'i>,
    crc: crc32fast::Hasher,
    produced: u64,
    size: u64,
    expected_crc: u32,
}

impl<'r, 'i> ZipEntryReader<'r, 'i> {
    /// `raw` yields the entry's compressed bytes; `deflated` says whether they need inflating.
    pub(crate) fn new(raw: &'r mut dyn Read, deflated: Option<&'i mut Inflater>, size: u64, crc: u32) -> Self {
        let method = match deflated {
            Some(inflater) => {
                inflater.state.reset(false);
                Method::Deflated { inflater, start: 0, end: 0, stream_end: false }
            }
            None => Method::Stored,
        };
        ZipEntryReader { raw, method, crc: crc32fast::Hasher::new(), produced: 0, size, expected_crc: crc }
    }

    fn corrupt(what: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, what)
    }

    /// Inflates into `out` (appending within its capacity, or into `slice`), returning the
    /// number of bytes produced; 0 at the end of the stream.
    fn inflate(&mut self, mut out: Out<'_>) -> io::Result<usize> {
        let Method::Deflated { inflater, start, end, stream_end } = &mut self.method else {
            unreachable!("inflate is only called on deflated entries")
        };
        loop {
            if *stream_end {
                return Ok(0);
            }
            if *start == *end {
                *end = self.raw.read(&mut inflater.input)?;
                *start = 0;
            }
            let eof = *end == 0;
            let before_in = inflater.state.total_in();
            let before_out = inflater.state.total_out();
            let flush = if eof { FlushDecompress::Finish } else { FlushDecompress::None };
            let input = &inflater.input[*start..*end];
            let status = match &mut out {
                Out::Slice(s) => inflater.state.decompress(input, s, flush),
                Out::Vec(v) => inflater.state.decompress_vec(input, v, flush),
            }
            .map_err(|e| Self::corrupt(format!("corrupt deflate data: {e}")))?;
            *start += (inflater.state.total_in() - before_in) as usize;
            let produced = (inflater.state.total_out() - before_out) as usize;
            if status == Status::StreamEnd {
                *stream_end = true;
            }
            if produced > 0 || *stream_end {
                return Ok(produced);
            }
            if eof {
                return Err(Self::corrupt("compressed data ends early".into()));
            }
        }
    }

    fn account(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.produced += bytes.len() as u64;
        self.within_size()
    }

    /// An entry that has produced more than its header declares is corrupt (or a bomb): stop
    /// inflating at once instead of following it up to a limit.
    fn within_size(&self) -> io::Result<()> {
        if self.produced > self.size {
            return Err(Self::corrupt(format!("inflates past the {} bytes its header declares", self.size)));
        }
        Ok(())
    }

    fn verify(&self) -> io::Result<()> {
        if self.produced != self.size {
            return Err(Self::corrupt(format!("holds {} bytes, its header says {}", self.produced, self.size)));
        }
        let crc = self.crc.clone().finalize();
        if crc != self.expected_crc {
            return Err(Self::corrupt(format!("CRC-32 mismatch ({crc:08x}, header says {:08x})", self.expected_crc)));
        }
        Ok(())
    }
}

enum Out<'a> {
    Slice(&'a mut [u8]),
    Vec(&'a mut Vec<u8>),
}

impl Read for ZipEntryReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.method {
            Method::Stored => {
                let room = self.size.saturating_sub(self.produced).min(buf.len() as u64) as usize;
                self.raw.read(&mut buf[..room])?
            }
            Method::Deflated { .. } => self.inflate(Out::Slice(buf))?,
        };
        self.account(&buf[..n])?;
        Ok(n)
    }
}

impl EntryRead for ZipEntryReader<'_, '_> {
    fn skip_rest(&mut self) -> io::Result<()> {
        let mut chunk = vec![0u8; IN_CHUNK];
        while self.read(&mut chunk)? > 0 {}
        self.verify()
    }

    fn read_rest(&mut self, buf: &mut Vec<u8>, max: u64) -> io::Result<()> {
        if matches!(self.method, Method::Stored) {
            let room = (max + 1).saturating_sub(buf.len() as u64);
            (&mut *self).take(room).read_to_end(buf)?;
        } else {
            loop {
                if buf.len() as u64 > max {
                    return Ok(()); // over the limit: the caller refuses it, no need to verify
                }
                if buf.capacity() - buf.len() < IN_CHUNK {
                    let want = self.size.saturating_sub(buf.len() as u64).clamp(IN_CHUNK as u64, 64 << 20) as usize;
                    buf.reserve(want);
                }
                let from = buf.len();
                let n = self.inflate(Out::Vec(buf))?;
                let (crc, produced) = (&mut self.crc, &mut self.produced);
                crc.update(&buf[from..]);
                *produced += (buf.len() - from) as u64;
                self.within_size()?;
                if n == 0 {
                    break;
                }
            }
        }
        if buf.len() as u64 <= max { self.verify() } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn prefix_then_rest_with_one_decompressor_for_many_entries() {
        let mut inflater = Inflater::new();
        for round in 0..3u8 {
            let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ round).collect();
            let packed = deflate(&data);
            let mut raw = packed.as_slice();
            let mut r = ZipEntryReader::new(&mut raw, Some(&mut inflater), data.len() as u64, crc32fast::hash(&data));
            let mut head = [0u8; 64];
            let n = crate::source::inspect::read_head(&mut r, &mut head).unwrap();
            let mut all = head[..n].to_vec();
            r.read_rest(&mut all, 1 << 30).unwrap();
            assert_eq!(all, data);
        }
    }

    #[test]
    fn crc_and_size_mismatches_are_errors() {
        let data = b"hello hello hello hello".to_vec();
        let packed = deflate(&data);
        let mut inflater = Inflater::new();
        let mut raw = packed.as_slice();
        let mut r = ZipEntryReader::new(&mut raw, Some(&mut inflater), data.len() as u64, 1234);
        let err = r.read_rest(&mut Vec::new(), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("CRC-32"), "{err}");
        let mut raw = &packed[..packed.len() / 2];
        let mut r = ZipEntryReader::new(&mut raw, Some(&mut inflater), data.len() as u64, crc32fast::hash(&data));
        assert!(r.read_rest(&mut Vec::new(), 1 << 20).is_err());
    }

    #[test]
    fn inflating_stops_as_soon_as_an_entry_passes_its_declared_size() {
        let data = vec![0u8; 8 << 20];
        let packed = deflate(&data);
        let mut inflater = Inflater::new();
        let mut raw = packed.as_slice();
        let mut r = ZipEntryReader::new(&mut raw, Some(&mut inflater), 4096, 0);
        let mut out = Vec::new();
        let err = r.read_rest(&mut out, 1 << 30).unwrap_err();
        assert!(err.to_string().contains("past the 4096 bytes"), "{err}");
        assert!(out.len() <= 4096 + 2 * IN_CHUNK, "inflated {} bytes", out.len());
        // The same through `Read`.
        let mut raw = packed.as_slice();
        let mut r = ZipEntryReader::new(&mut raw, Some(&mut inflater), 4096, 0);
        let mut sink = Vec::new();
        assert!(r.read_to_end(&mut sink).is_err());
        assert!(sink.len() <= 4096 + 2 * IN_CHUNK, "read {} bytes", sink.len());
    }

    #[test]
    fn stored_entries_are_read_as_they_are() {
        let data = b"\x7fELF stored bytes".to_vec();
        let mut raw = data.as_slice();
        let mut r = ZipEntryReader::new(&mut raw, None, data.len() as u64, crc32fast::hash(&data));
        let mut out = Vec::new();
        r.read_rest(&mut out, 1 << 20).unwrap();
        assert_eq!(out, data);
    }
}
