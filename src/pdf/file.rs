//! A PDF read lazily from any `Read + Seek` source (a file, or a `Cursor` over bytes in
//! memory): only the cross-reference sections and the objects asked for are read, so
//! signing and verifying a large scan never holds the whole file.

use super::syntax::{Parser, SyntaxError};
use super::xref::{self, Entry, Xref};
use super::{PdfError, MAX_PDF_BYTES};
use lopdf::{Dictionary, Object, ObjectId, Stream};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::rc::Rc;

/// First window read for an object; most dictionaries fit.
const FIRST_WINDOW: usize = 2048;
/// Largest object (without its stream data) parsed.
const MAX_OBJECT_BYTES: usize = 16 << 20;
/// Largest stream read or inflated: object streams, cross-reference streams, changed objects.
pub(super) const MAX_STREAM_BYTES: usize = 64 << 20;
/// Decoded object streams kept for later lookups, in bytes.
const OBJECT_STREAM_CACHE: usize = 32 << 20;
/// Most objects an object stream may index.
const MAX_OBJECTS_PER_STREAM: usize = 1 << 20;
/// References followed in a chain (`/Length 5 0 R` naming another reference, and so on).
const MAX_INDIRECTION: usize = 16;
/// Buffer for hashing and copying ranges of the file.
pub(crate) const CHUNK: usize = 256 * 1024;

/// A PDF source, its length checked and its header seen.
pub struct PdfFile<R> {
    source: RefCell<R>,
    len: u64,
    object_streams: RefCell<HashMap<u64, Rc<ObjectStreamData>>>,
}

/// One revision's view of the file: the objects as its cross-reference chain names them.
pub struct Revision<'f, R> {
    file: &'f PdfFile<R>,
    xref: Xref,
}

/// A decoded object stream: its content and where each object starts in it.
struct ObjectStreamData {
    content: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl<R: Read + Seek> PdfFile<R> {
    /// Checks the size and the `%PDF-` header; reads nothing else yet.
    pub fn open(mut source: R) -> Result<Self, PdfError> {
        let len = source.seek(SeekFrom::End(0))?;
        if len > MAX_PDF_BYTES as u64 {
            return Err(PdfError::TooLarge);
        }
        let file = PdfFile { source: RefCell::new(source), len, object_streams: RefCell::new(HashMap::new()) };
        let head = file.read_at(0, 1024, len)?;
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::Parse("no %PDF- header".into()));
        }
        Ok(file)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The newest revision: the whole file.
    pub fn latest(&self) -> Result<Revision<'_, R>, PdfError> {
        self.revision_ending_at(self.len)
    }

    /// The revision whose `%%EOF` ends at `end`; it reads nothing at or after `end`.
    pub fn revision_ending_at(&self, end: u64) -> Result<Revision<'_, R>, PdfError> {
        let xref = xref::read(self, end.min(self.len))?;
        // `/Encrypt null` is no encryption (a null value is as good as an absent key).
        if xref.trailer.get(b"Encrypt").is_ok_and(|e| !matches!(e, Object::Null)) {
            return Err(PdfError::Encrypted);
        }
        Ok(Revision { file: self, xref })
    }

    /// Up to `max` bytes from `offset`, never at or past `end`.
    pub(crate) fn read_at(&self, offset: u64, max: usize, end: u64) -> Result<Vec<u8>, PdfError> {
        let end = end.min(self.len);
        if offset >= end {
            return Ok(Vec::new());
        }
        let n = (end - offset).min(max as u64) as usize;
        let mut buf = vec![0; n];
        let mut source = self.source.borrow_mut();
        source.seek(SeekFrom::Start(offset))?;
        source.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// Feeds `len` bytes from `offset` to `sink`, a chunk at a time.
    pub fn for_each_chunk(&self, offset: u64, len: u64, mut sink: impl FnMut(&[u8])) -> Result<(), PdfError> {
        if offset.checked_add(len).is_none_or(|e| e > self.len) {
            return Err(PdfError::Structure(format!("range {offset}+{len} runs past the end of the file")));
        }
        let mut source = self.source.borrow_mut();
        source.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0; CHUNK.min(len as usize)];
        let mut left = len;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            source.read_exact(&mut buf[..n])?;
            sink(&buf[..n]);
            left -= n as u64;
        }
        Ok(())
    }

    /// The original bytes, for copying them ahead of an appended revision.
    pub fn into_inner(self) -> R {
        self.source.into_inner()
    }

    /// Parses with `f` from `offset`, reading larger windows while the object runs past one.
    /// Returns the value and the absolute offset where parsing stopped.
    pub(super) fn parse_at<T>(
        &self,
        offset: u64,
        end: u64,
        f: impl Fn(&mut Parser) -> Result<T, SyntaxError>,
    ) -> Result<(T, u64), PdfError> {
        let mut window = FIRST_WINDOW;
        loop {
            let buf = self.read_at(offset, window, end)?;
            let at_eof = offset + buf.len() as u64 >= end.min(self.len);
            let mut parser = Parser::new(&buf, at_eof);
            match f(&mut parser) {
                Ok(v) => return Ok((v, offset + parser.pos() as u64)),
                Err(SyntaxError::Incomplete) if !at_eof && window < MAX_OBJECT_BYTES => window *= 4,
                Err(SyntaxError::Incomplete) => return Err(PdfError::Parse(format!("object at offset {offset} is too large"))),
                Err(SyntaxError::Invalid(why)) => return Err(PdfError::Parse(format!("object at offset {offset}: {why}"))),
            }
        }
    }

    /// The indirect object at `offset`, with its stream data if it has any. `length_of`
    /// resolves an indirect `/Length`.
    pub(super) fn indirect_at(
        &self,
        offset: u64,
        end: u64,
        length_of: &dyn Fn(ObjectId) -> Option<i64>,
    ) -> Result<(ObjectId, Object), PdfError> {
        self.indirect_with(offset, end, length_of, true)
    }

    /// [`PdfFile::indirect_at`]; without `data`, a stream comes back with its dictionary as
    /// written and no content, so that walking a document never reads its images.
    fn indirect_with(
        &self,
        offset: u64,
        end: u64,
        length_of: &dyn Fn(ObjectId) -> Option<i64>,
        data: bool,
    ) -> Result<(ObjectId, Object), PdfError> {
        let ((id, object, has_stream), data_at) = self.parse_at(offset, end, |p| {
            let id = p.object_header()?;
            let object = p.object()?;
            let has_stream = matches!(object, Object::Dictionary(_)) && p.stream_keyword()?;
            Ok((id, object, has_stream))
        })?;
        let Object::Dictionary(dict) = object else { return Ok((id, object)) };
        if !has_stream {
            return Ok((id, Object::Dictionary(dict)));
        }
        if !data {
            return Ok((id, Object::Stream(Stream { dict, content: Vec::new(), allows_compression: false, start_position: None })));
        }
        let length = match dict.get(b"Length") {
            Ok(Object::Integer(n)) => Some(*n),
            Ok(Object::Reference(r)) => length_of(*r),
            _ => None,
        };
        let content = self.stream_data(data_at, length, end)?;
        Ok((id, Object::Stream(Stream::new(dict, content))))
    }

    /// Stream data from `at`: `length` bytes if `endstream` follows them, else up to the next
    /// `endstream`.
    fn stream_data(&self, at: u64, length: Option<i64>, end: u64) -> Result<Vec<u8>, PdfError> {
        if let Some(n) = length.filter(|n| (0..=MAX_STREAM_BYTES as i64).contains(n)).map(|n| n as u64) {
            if at + n <= end {
                let after = self.read_at(at + n, 32, end)?;
                let trimmed = after.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &after[i..]).unwrap_or_default();
                if trimmed.starts_with(b"endstream") {
                    return self.read_at(at, n as usize, end);
                }
            }
        }
        let found = self.find(b"endstream", at, end, MAX_STREAM_BYTES)?;
        let Some(stop) = found else { return Err(PdfError::Parse(format!("stream at offset {at} has no endstream"))) };
        let mut data = self.read_at(at, (stop - at) as usize, end)?;
        if data.ends_with(b"\r\n") {
            data.truncate(data.len() - 2);
        } else if data.ends_with(b"\n") || data.ends_with(b"\r") {
            data.truncate(data.len() - 1);
        }
        Ok(data)
    }

    /// Offset of the last `needle` that ends at or before `end`.
    pub fn find_last(&self, needle: &[u8], end: u64) -> Result<Option<u64>, PdfError> {
        let mut stop = end.min(self.len);
        while stop >= needle.len() as u64 {
            let from = stop.saturating_sub(CHUNK as u64);
            let chunk = self.read_at(from, (stop - from) as usize, stop)?;
            if let Some(i) = chunk.windows(needle.len()).rposition(|w| w == needle) {
                return Ok(Some(from + i as u64));
            }
            if from == 0 {
                break;
            }
            stop = from + needle.len() as u64 - 1;
        }
        Ok(None)
    }

    /// Offset of the first `needle` at or after `from`, looking at most `within` bytes ahead.
    pub(super) fn find(&self, needle: &[u8], from: u64, end: u64, within: usize) -> Result<Option<u64>, PdfError> {
        let mut at = from;
        let stop = end.min(from.saturating_add(within as u64));
        while at < stop {
            let chunk = self.read_at(at, CHUNK, stop)?;
            if let Some(i) = chunk.windows(needle.len()).position(|w| w == needle) {
                return Ok(Some(at + i as u64));
            }
            if chunk.len() < needle.len() || at + chunk.len() as u64 >= stop {
                return Ok(None);
            }
            at += (chunk.len() - needle.len() + 1) as u64;
        }
        Ok(None)
    }
}

impl<'f, R: Read + Seek> Revision<'f, R> {
    pub fn file(&self) -> &'f PdfFile<R> {
        self.file
    }

    pub fn trailer(&self) -> &Dictionary {
        &self.xref.trailer
    }

    /// Where this revision ends (just after its `%%EOF`).
    pub fn end(&self) -> u64 {
        self.xref.end
    }

    /// Where the earlier revisions of the file end, newest first: each `/Prev` section's
    /// revision ends at the first `%%EOF` after it.
    pub fn earlier_ends(&self) -> Vec<u64> {
        let mut ends: Vec<u64> = Vec::new();
        for at in &self.xref.earlier {
            let Ok(Some(eof)) = self.file.find(b"%%EOF", *at, self.xref.end, MAX_STREAM_BYTES) else { continue };
            let after = self.file.read_at(eof + 5, 2, self.xref.end).unwrap_or_default();
            let eol = match after.as_slice() {
                [b'\r', b'\n', ..] => 2,
                [b'\r' | b'\n', ..] => 1,
                _ => 0,
            };
            let end = eof + 5 + eol;
            if end < self.xref.end && !ends.contains(&end) {
                ends.push(end);
            }
        }
        ends.sort_unstable_by(|a, b| b.cmp(a));
        ends
    }

    pub(super) fn xref(&self) -> &Xref {
        &self.xref
    }

    /// The object `id`; a free or unknown object is `null`, as the PDF format says.
    pub fn object(&self, id: ObjectId) -> Result<Object, PdfError> {
        self.object_at_depth(id, 0, true)
    }

    /// [`Revision::object`] without stream data: a stream's dictionary as written, empty content.
    pub fn object_shallow(&self, id: ObjectId) -> Result<Object, PdfError> {
        self.object_at_depth(id, 0, false)
    }

    /// Whether `id` is in use in this revision (not free, not unknown).
    pub fn in_use(&self, id: u32) -> bool {
        matches!(self.xref.entries.get(&id), Some(Entry::Offset { .. } | Entry::Compressed { .. }))
    }

    /// Whether this revision's cross-reference sections mark `id` free.
    pub fn is_free(&self, id: u32) -> bool {
        matches!(self.xref.entries.get(&id), Some(Entry::Free))
    }

    /// Whether `id` lives at the same place in `other` (a revision of the same file), so
    /// its bytes are the same in both.
    pub fn same_entry(&self, other: &Revision<R>, id: u32) -> bool {
        let (mine, theirs) = (self.xref.entries.get(&id), other.xref.entries.get(&id));
        match (mine, theirs) {
            (Some(Entry::Compressed { container, .. }), _) => {
                mine == theirs && self.xref.entries.get(container) == other.xref.entries.get(container)
            }
            _ => mine == theirs,
        }
    }

    fn object_at_depth(&self, id: ObjectId, depth: usize, data: bool) -> Result<Object, PdfError> {
        if depth > MAX_INDIRECTION {
            return Err(PdfError::Structure(format!("object {} {} R: references nest too deeply", id.0, id.1)));
        }
        match self.xref.entries.get(&id.0) {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::Offset { offset, .. }) => {
                let length_of = |r: ObjectId| self.object_at_depth(r, depth + 1, true).ok().and_then(|o| o.as_i64().ok());
                let (found, object) = self.file.indirect_with(*offset, self.xref.end, &length_of, data)?;
                if found.0 != id.0 {
                    return Err(PdfError::Structure(format!(
                        "the cross-reference entry of {} {} R points at {} {} obj",
                        id.0, id.1, found.0, found.1
                    )));
                }
                Ok(object)
            }
            Some(Entry::Compressed { container, index }) => self.compressed(id, *container, *index as usize, depth),
        }
    }

    fn compressed(&self, id: ObjectId, container: u32, index: usize, depth: usize) -> Result<Object, PdfError> {
        let Some(Entry::Offset { offset: at, .. }) = self.xref.entries.get(&container) else {
            return Err(PdfError::Structure(format!("object stream {container} 0 R of {} {} R is missing", id.0, id.1)));
        };
        let at = *at;
        let cached = self.file.object_streams.borrow().get(&at).cloned();
        let data = match cached {
            Some(d) => d,
            None => {
                let stream = self.object_at_depth((container, 0), depth + 1, true)?;
                let data = Rc::new(decode_object_stream(container, stream)?);
                let mut cache = self.file.object_streams.borrow_mut();
                if cache.values().map(|d| d.content.len()).sum::<usize>() + data.content.len() > OBJECT_STREAM_CACHE {
                    cache.clear();
                }
                cache.insert(at, data.clone());
                data
            }
        };
        let start = match data.offsets.get(index) {
            Some((n, start)) if *n == id.0 => *start,
            _ => data
                .offsets
                .iter()
                .find(|(n, _)| *n == id.0)
                .map(|(_, s)| *s)
                .ok_or_else(|| PdfError::Structure(format!("object {} {} R is not in object stream {container} 0 R", id.0, id.1)))?,
        };
        let mut parser = Parser::new(data.content.get(start..).unwrap_or_default(), true);
        parser.object().map_err(|e| {
            let why = match e {
                SyntaxError::Invalid(why) => why,
                SyntaxError::Incomplete => "truncated".into(),
            };
            PdfError::Parse(format!("object {} {} R in object stream {container}: {why}", id.0, id.1))
        })
    }

    /// `o` itself, or the object it refers to (through chains of references).
    pub fn resolve(&self, o: &Object) -> Result<Object, PdfError> {
        let mut current = o.clone();
        for _ in 0..MAX_INDIRECTION {
            match current {
                Object::Reference(id) => current = self.object(id)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::Structure("references nest too deeply".into()))
    }

    /// The dictionary `o` is or refers to.
    pub fn dictionary(&self, o: &Object, what: &str) -> Result<Dictionary, PdfError> {
        match self.resolve(o)? {
            Object::Dictionary(d) => Ok(d),
            _ => Err(PdfError::Structure(format!("{what} is not a dictionary"))),
        }
    }

    /// The catalog's object number and dictionary.
    pub fn catalog(&self) -> Result<(ObjectId, Dictionary), PdfError> {
        let root = self
            .trailer()
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| PdfError::Structure("trailer /Root is not a reference".into()))?;
        Ok((root, self.dictionary(&Object::Reference(root), "the catalog")?))
    }
}

fn decode_object_stream(container: u32, stream: Object) -> Result<ObjectStreamData, PdfError> {
    let bad = |why: &str| PdfError::Structure(format!("object stream {container} 0 R: {why}"));
    let Object::Stream(stream) = stream else { return Err(bad("not a stream")) };
    let content = stream.get_plain_content_with_limit(MAX_STREAM_BYTES).map_err(|e| bad(&e.to_string()))?;
    let count = stream.dict.get(b"N").and_then(Object::as_i64).map_err(|_| bad("no /N"))?;
    let first = stream.dict.get(b"First").and_then(Object::as_i64).map_err(|_| bad("no /First"))?;
    let first = usize::try_from(first).ok().filter(|f| *f <= content.len()).ok_or_else(|| bad("/First out of range"))?;
    let count = usize::try_from(count).ok().filter(|n| *n <= MAX_OBJECTS_PER_STREAM).ok_or_else(|| bad("/N out of range"))?;
    let mut parser = Parser::new(&content[..first], true);
    let mut offsets = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let (Ok(number), Ok(offset)) = (parser.unsigned(), parser.unsigned()) else { break };
        let (Ok(number), Some(start)) = (u32::try_from(number), usize::try_from(offset).ok().and_then(|o| o.checked_add(first))) else {
            return Err(bad("object number or offset out of range"));
        };
        offsets.push((number, start));
    }
    Ok(ObjectStreamData { content, offsets })
}

impl From<std::io::Error> for PdfError {
    fn from(e: std::io::Error) -> Self {
        PdfError::Read(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{dictionary, Document};
    use std::io::Cursor;

    fn sample(modern: bool) -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! {}, b"BT /F1 12 Tf (Xin chao) Tj ET".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Contents" => content,
        });
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id, "Lang" => Object::string_literal("vi (VN)") });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        if modern {
            doc.save_modern(&mut out).unwrap();
        } else {
            doc.save_to(&mut out).unwrap();
        }
        out
    }

    #[test]
    fn every_object_reads_as_lopdf_loads_it() {
        for modern in [false, true] {
            let pdf = sample(modern);
            let doc = Document::load_mem(&pdf).unwrap();
            let file = PdfFile::open(Cursor::new(&pdf)).unwrap();
            let rev = file.latest().unwrap();
            assert_eq!(rev.trailer().get(b"Root").unwrap(), doc.trailer.get(b"Root").unwrap());
            for (id, expected) in &doc.objects {
                let got = rev.object(*id).unwrap();
                match (expected, &got) {
                    (Object::Stream(a), Object::Stream(b)) => {
                        assert_eq!(a.content, b.content, "{id:?}");
                        assert_eq!(a.dict.get(b"Type").ok(), b.dict.get(b"Type").ok(), "{id:?}");
                    }
                    _ => assert_eq!(expected, &got, "{id:?} (modern: {modern})"),
                }
            }
            assert_eq!(rev.object((999, 0)).unwrap(), Object::Null);
        }
    }

    #[test]
    fn a_revision_reads_nothing_past_its_end() {
        let pdf = sample(false);
        let file = PdfFile::open(Cursor::new(&pdf)).unwrap();
        let xref_at = file.latest().unwrap().xref().startxref;
        assert!(file.revision_ending_at(xref_at + 10).is_err(), "its startxref lies after the end");
        assert_eq!(file.read_at(0, 100, 5).unwrap(), b"%PDF-");
    }

    #[test]
    fn a_later_free_entry_hides_the_object_and_a_changed_entry_is_listed() {
        let mut pdf = sample(false);
        let doc = Document::load_mem(&pdf).unwrap();
        let page = *doc.get_pages().get(&1).unwrap();
        let content = doc.get_page_contents(page)[0].0;
        let (prev, size) = (doc.xref_start, doc.trailer.get(b"Size").unwrap().as_i64().unwrap());
        let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap().0;
        let signed_end = pdf.len() as u64;
        let xref_at = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n{content} 1\n0000000000 00001 f\r\ntrailer\n<< /Size {size} /Root {root} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n")
                .as_bytes(),
        );
        let file = PdfFile::open(Cursor::new(&pdf)).unwrap();
        let (old, new) = (file.revision_ending_at(signed_end).unwrap(), file.latest().unwrap());
        assert!(new.is_free(content) && !new.in_use(content));
        assert_eq!(new.object((content, 0)).unwrap(), Object::Null, "viewers show nothing for a freed object");
        assert_ne!(old.object((content, 0)).unwrap(), Object::Null);
        assert_eq!(super::super::changed_since(&new, &old), vec![content]);
        assert_eq!(new.earlier_ends(), vec![signed_end]);
    }

    #[test]
    fn files_without_a_header_or_too_short_are_refused() {
        assert!(matches!(PdfFile::open(Cursor::new(b"not a pdf")), Err(PdfError::Parse(_))));
        let file = PdfFile::open(Cursor::new(b"%PDF-1.7\n1 0 obj << /Length 99999999 >> stream\n")).unwrap();
        assert!(file.latest().is_err());
    }
}
