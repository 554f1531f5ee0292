//! Every record of a zip's central directory, read directly: the zip crate keys entries by name,
//! so of several entries with one name it keeps only the last. What Lambda's unzip extracts
//! for such a name is ambiguous, and every copy must be judged.

use std::io::{self, Read, Seek, SeekFrom};

use super::inspect::read_head;

const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;

/// One central-directory record: what is needed to find and read its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record {
    pub name: Vec<u8>,
    pub utf8: bool,
    pub method: u16,
    pub flags: u16,
    pub crc: u32,
    pub compressed: u64,
    pub size: u64,
    pub made_by_unix: bool,
    pub external: u32,
    pub local_header: u64,
}

impl Record {
    pub fn name(&self) -> String {
        if self.utf8 {
            String::from_utf8_lossy(&self.name).into_owned()
        } else {
            // CP437, as the zip crate decodes such names; ASCII is the same in both.
            self.name.iter().map(|&b| if b < 0x80 { b as char } else { cp437(b) }).collect()
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// Reads up to `max` records from the central directory at `start` (an offset in the reader's
/// terms, archive offset applied), stopping at the first thing that is not one.
pub(super) fn records<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    archive_offset: u64,
    max: usize,
) -> io::Result<Vec<Record>> {
    reader.seek(SeekFrom::Start(start))?;
    let mut out = Vec::new();
    let mut fixed = [0u8; 46];
    while out.len() < max {
        if read_head(reader, &mut fixed)? < fixed.len() || u32_at(&fixed, 0) != CENTRAL_SIGNATURE {
            break;
        }
        let (name_len, extra_len, comment_len) =
            (u16_at(&fixed, 28) as usize, u16_at(&fixed, 30) as usize, u16_at(&fixed, 32) as usize);
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name)?;
        let mut extra = vec![0u8; extra_len];
        reader.read_exact(&mut extra)?;
        reader.seek(SeekFrom::Current(comment_len as i64))?;
        let flags = u16_at(&fixed, 8);
        let mut record = Record {
            name,
            utf8: flags & 0x0800 != 0,
            method: u16_at(&fixed, 10),
            flags,
            crc: u32_at(&fixed, 16),
            compressed: u32_at(&fixed, 20) as u64,
            size: u32_at(&fixed, 24) as u64,
            made_by_unix: fixed[5] == 3,
            external: u32_at(&fixed, 38),
            local_header: u32_at(&fixed, 42) as u64,
        };
        apply_zip64(&mut record, &extra);
        record.local_header = record.local_header.saturating_add(archive_offset);
        out.push(record);
    }
    Ok(out)
}

/// ZIP64 extended information (0x0001) replaces the 32-bit fields set to 0xFFFFFFFF, in order.
fn apply_zip64(r: &mut Record, extra: &[u8]) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, len) = (u16_at(extra, at), u16_at(extra, at + 2) as usize);
        let body = &extra[(at + 4).min(extra.len())..(at + 4 + len).min(extra.len())];
        if id == 0x0001 {
            let mut pos = 0;
            for field in [&mut r.size, &mut r.compressed, &mut r.local_header] {
                if *field == 0xFFFF_FFFF && pos + 8 <= body.len() {
                    *field = u64_at(body, pos);
                    pos += 8;
                }
            }
        }
        at += 4 + len;
    }
}

/// Where a record's data starts: after its local header.
pub(super) fn data_start<R: Read + Seek>(reader: &mut R, record: &Record) -> io::Result<u64> {
    reader.seek(SeekFrom::Start(record.local_header))?;
    let mut local = [0u8; 30];
    reader.read_exact(&mut local)?;
    if u32_at(&local, 0) != LOCAL_SIGNATURE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no local header where the central directory points"));
    }
    let skip = u16_at(&local, 26) as u64 + u16_at(&local, 28) as u64;
    Ok(record.local_header + 30 + skip)
}

/// The Unicode character of a CP437 byte of 0x80 and above.
fn cp437(b: u8) -> char {
    const HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
    HIGH.chars().nth((b - 0x80) as usize).unwrap_or('?')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn every_record_of_a_zip_with_a_repeated_name() {
        // Two entries named `a.txt`: built by hand, since writers refuse duplicates.
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file("a.txt", opts).unwrap();
        std::io::Write::write_all(&mut w, b"first").unwrap();
        w.start_file("b.txt", opts).unwrap();
        std::io::Write::write_all(&mut w, b"other").unwrap();
        let mut bytes = w.finish().unwrap().into_inner();
        // Rename `b.txt` to `a.txt` in both headers.
        for i in 0..bytes.len() - 5 {
            if &bytes[i..i + 5] == b"b.txt" {
                bytes[i] = b'a';
            }
        }
        let archive = zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
        assert!(archive.has_duplicate_names());
        let mut reader = Cursor::new(bytes);
        let found = records(&mut reader, archive.central_directory_start(), archive.offset(), 10).unwrap();
        assert_eq!(found.iter().map(Record::name).collect::<Vec<_>>(), ["a.txt", "a.txt"]);
        let start = data_start(&mut reader, &found[0]).unwrap();
        let mut data = vec![0u8; 5];
        reader.seek(SeekFrom::Start(start)).unwrap();
        reader.read_exact(&mut data).unwrap();
        assert_eq!(&data, b"first");
        assert_eq!(cp437(0x80), 'Ç');
    }
}
