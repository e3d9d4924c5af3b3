//! The first pass: reads the whole file once, keeping only the header, counts,
//! capped problems and an 8-byte fingerprint per announcement id, so a file of
//! any length is checked before anything is written.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use indicatif::ProgressBar;

use super::parse::{Header, Line, LineReader, Record, id_fingerprint, parse_line};
use super::{ImportError, MAX_REPORTED_PROBLEMS, Problem};

/// What the first pass learned about a valid file.
#[derive(Debug)]
pub(crate) struct ValidFile {
    pub(crate) header: Header,
    pub(crate) detail_count: u64,
    /// A fingerprint of the file's bytes, to notice the file changing before the
    /// second pass has read it all.
    pub(crate) content_fingerprint: u64,
}

/// The problems found so far: the first [`MAX_REPORTED_PROBLEMS`], and how many
/// there were in all.
#[derive(Debug, Default)]
struct Problems {
    kept: Vec<Problem>,
    total: u64,
}

impl Problems {
    fn push(&mut self, line: u64, reason: impl Into<String>) {
        self.total += 1;
        if self.kept.len() < MAX_REPORTED_PROBLEMS {
            self.kept.push(Problem {
                line,
                reason: reason.into(),
            });
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordType {
    Header,
    Detail,
    Trailer,
    Other,
}

fn record_type(line: &Line<'_>) -> RecordType {
    let Line::Text(text) = line else {
        return RecordType::Other;
    };
    match text.split('|').next().map(str::trim) {
        Some("HDR") => RecordType::Header,
        Some("DTL") => RecordType::Detail,
        Some("TRL") => RecordType::Trailer,
        _ => RecordType::Other,
    }
}

fn open(path: &Path) -> Result<LineReader<BufReader<File>>, ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(LineReader::new(BufReader::with_capacity(64 * 1024, file)))
}

/// Checks every line of the file at `path`. Blocking: run it off the async
/// runtime.
pub(crate) fn validate(path: &Path, progress: &ProgressBar) -> Result<ValidFile, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.to_owned(),
        source,
    };
    let mut reader = open(path)?;
    let mut problems = Problems::default();
    let mut header: Option<Header> = None;
    let mut trailer: Option<(u64, u64)> = None;
    let mut detail_lines: u64 = 0;
    let mut last_line: u64 = 0;
    // 8 bytes per detail record: the one thing that grows with the file, so that
    // duplicates are found without keeping the ids themselves.
    let mut id_fingerprints: Vec<u64> = Vec::new();
    let mut reported_bytes = 0;
    while let Some((number, line)) = reader.next_line().map_err(read_error)? {
        last_line = number;
        let record_type = record_type(&line);
        let parsed = parse_line(number, line);
        if let Some((trailer_line, _)) = trailer {
            problems.push(
                number,
                format!("a record after the trailer on line {trailer_line}; the trailer must be the last line"),
            );
            continue;
        }
        if number == 1 && record_type != RecordType::Header {
            problems.push(
                1,
                "the file must start with a header record \
                 (`HDR|DIVANN|1|<business date>|<sender>|<file sequence>`)",
            );
            if parsed.is_err() {
                continue;
            }
        }
        if record_type == RecordType::Detail {
            detail_lines += 1;
        }
        match parsed {
            Err(reason) => problems.push(number, reason),
            Ok(Record::Header(parsed_header)) => {
                if number == 1 {
                    header = Some(parsed_header);
                } else {
                    problems.push(number, "a second header; a file has one header, on line 1");
                }
            }
            Ok(Record::Detail(detail)) => {
                id_fingerprints.push(id_fingerprint(&detail.announcement_id));
            }
            Ok(Record::Trailer { detail_count }) => trailer = Some((number, detail_count)),
        }
        if number % 4096 == 0 {
            let bytes = reader.bytes_read();
            progress.inc(bytes - reported_bytes);
            reported_bytes = bytes;
        }
    }
    progress.inc(reader.bytes_read() - reported_bytes);
    match trailer {
        _ if last_line == 0 => problems.push(
            1,
            "the file is empty; expected a header, detail records and a trailer",
        ),
        None => problems.push(
            last_line + 1,
            "the file ends without a trailer (`TRL|<detail count>`); it may have been \
             cut off in transfer: ask the clearing firm to resend it",
        ),
        Some((line, counted)) if counted != detail_lines => problems.push(
            line,
            format!(
                "the trailer counts {counted} detail records but the file has {detail_lines}; \
                 the file is incomplete or was edited: ask the clearing firm to resend it"
            ),
        ),
        Some(_) => {}
    }
    let content_fingerprint = reader.content_fingerprint();
    drop(reader);
    report_duplicates(path, id_fingerprints, &mut problems)?;
    match header {
        Some(header) if problems.total == 0 => Ok(ValidFile {
            header,
            detail_count: detail_lines,
            content_fingerprint,
        }),
        _ => {
            let mut kept = problems.kept;
            kept.sort_by_key(|problem| problem.line);
            Err(ImportError::Rejected {
                path: path.to_owned(),
                more: problems.total - kept.len() as u64,
                problems: kept,
            })
        }
    }
}

/// Finds announcement ids that occur more than once. Sorting the fingerprints
/// finds candidates; only when there are some is the file read again, to confirm
/// them by their actual ids and report the lines.
fn report_duplicates(
    path: &Path,
    mut id_fingerprints: Vec<u64>,
    problems: &mut Problems,
) -> Result<(), ImportError> {
    id_fingerprints.sort_unstable();
    let candidates: HashSet<u64> = id_fingerprints
        .windows(2)
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .take(MAX_REPORTED_PROBLEMS)
        .collect();
    drop(id_fingerprints);
    if candidates.is_empty() {
        return Ok(());
    }
    let mut reader = open(path)?;
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    while let Some((number, line)) = reader.next_line().map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })? {
        let Ok(Record::Detail(detail)) = parse_line(number, line) else {
            continue;
        };
        if !candidates.contains(&id_fingerprint(&detail.announcement_id)) {
            continue;
        }
        match first_seen.get(&detail.announcement_id) {
            Some(first) => problems.push(
                number,
                format!(
                    "announcement id `{}` is already used on line {first}; an announcement \
                     appears at most once per file",
                    detail.announcement_id
                ),
            ),
            None => {
                first_seen.insert(detail.announcement_id, number);
            }
        }
    }
    Ok(())
}
