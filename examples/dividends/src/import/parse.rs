//! The clearing firm's daily dividend file (FILE_FORMAT.md): reading it line by
//! line in bounded memory, and parsing each record into typed values.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::models::{DividendKind, dates_out_of_order};

/// The longest line the importer reads; anything longer is reported, not buffered,
/// so one runaway line cannot exhaust memory.
pub(crate) const MAX_LINE_BYTES: usize = 1024;

/// The file type named in the header.
pub(crate) const FILE_TYPE: &str = "DIVANN";
/// The only format version this importer understands.
pub(crate) const FORMAT_VERSION: &str = "1";

const HEADER_FIELDS: [&str; 6] = [
    "record type",
    "file type",
    "format version",
    "business date",
    "sender",
    "file sequence",
];
const DETAIL_FIELDS: [&str; 13] = [
    "record type",
    "announcement id",
    "action",
    "CUSIP",
    "symbol",
    "issuer name",
    "kind",
    "declaration date",
    "ex-date",
    "record date",
    "pay date",
    "rate",
    "currency",
];
const TRAILER_FIELDS: [&str; 2] = ["record type", "detail count"];

/// The header record: which file this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) business_date: NaiveDate,
    pub(crate) sender: String,
    pub(crate) sequence: u32,
}

/// What a detail record asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `NEW`: a new announcement.
    New,
    /// `COR`: a correction of an earlier announcement.
    Correction,
    /// `CAN`: the announcement is withdrawn.
    Cancel,
}

/// One announcement, as the file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detail {
    /// The line it came from, for error messages.
    pub(crate) line: u64,
    pub(crate) announcement_id: String,
    pub(crate) action: Action,
    pub(crate) cusip: String,
    pub(crate) symbol: String,
    pub(crate) issuer_name: String,
    pub(crate) kind: DividendKind,
    pub(crate) declaration_date: NaiveDate,
    pub(crate) ex_date: NaiveDate,
    pub(crate) record_date: NaiveDate,
    pub(crate) pay_date: NaiveDate,
    pub(crate) rate: Decimal,
    pub(crate) currency: String,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    Header(Header),
    Detail(Box<Detail>),
    Trailer { detail_count: u64 },
}

/// Reads a file line by line into one reused buffer, numbering lines from 1,
/// never holding more than [`MAX_LINE_BYTES`] of a line, and fingerprinting every
/// byte read so a second pass can tell whether the file changed in between.
#[derive(Debug)]
pub(crate) struct LineReader<R> {
    reader: R,
    buffer: Vec<u8>,
    number: u64,
    bytes_read: u64,
    content: DefaultHasher,
}

/// A line as read: its text, or why it has none.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    Text(&'a str),
    TooLong,
    NotUtf8,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(reader: R) -> Self {
        LineReader {
            reader,
            buffer: Vec::with_capacity(256),
            number: 0,
            bytes_read: 0,
            content: DefaultHasher::new(),
        }
    }

    /// The next line and its number, or `None` at the end of the file. A final
    /// newline does not start another line; a trailing `\r` is dropped.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buffer.clear();
        let mut too_long = false;
        let mut read_anything = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            read_anything = true;
            let newline = available.iter().position(|&byte| byte == b'\n');
            let taken = newline.map_or(available.len(), |index| index + 1);
            let text = &available[..newline.unwrap_or(available.len())];
            self.content.write(&available[..taken]);
            if !too_long {
                if self.buffer.len() + text.len() > MAX_LINE_BYTES {
                    too_long = true;
                    self.buffer.clear();
                } else {
                    self.buffer.extend_from_slice(text);
                }
            }
            self.reader.consume(taken);
            self.bytes_read += taken as u64;
            if newline.is_some() {
                break;
            }
        }
        if !read_anything {
            return Ok(None);
        }
        self.number += 1;
        if too_long {
            return Ok(Some((self.number, Line::TooLong)));
        }
        if self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        let line = match std::str::from_utf8(&self.buffer) {
            Ok(text) => Line::Text(text),
            Err(_) => Line::NotUtf8,
        };
        Ok(Some((self.number, line)))
    }

    /// How many bytes have been read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// A fingerprint of every byte read so far.
    pub(crate) fn content_fingerprint(&self) -> u64 {
        self.content.finish()
    }
}

/// A 64-bit fingerprint of an announcement id, for finding duplicates without
/// keeping the ids themselves. Equal ids always have equal fingerprints; the rare
/// unequal ids that collide are told apart by a confirmation pass.
pub(crate) fn id_fingerprint(announcement_id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    announcement_id.hash(&mut hasher);
    hasher.finish()
}

/// Parses one line into a record, or says everything that is wrong with it.
pub(crate) fn parse_line(line_number: u64, line: Line<'_>) -> Result<Record, String> {
    let text = match line {
        Line::Text(text) => text,
        Line::TooLong => {
            return Err(format!(
                "the line is longer than {MAX_LINE_BYTES} bytes; is this a dividend file?"
            ));
        }
        Line::NotUtf8 => return Err("the line is not valid UTF-8".to_owned()),
    };
    if text.trim().is_empty() {
        return Err("blank line; every line must be a HDR, DTL or TRL record".to_owned());
    }
    let fields: Vec<&str> = text.split('|').map(str::trim).collect();
    match fields[0] {
        "HDR" => parse_header(&fields).map(Record::Header),
        "DTL" => parse_detail(line_number, &fields).map(|detail| Record::Detail(Box::new(detail))),
        "TRL" => parse_trailer(&fields),
        other => Err(format!(
            "unknown record type `{}`, expected `HDR`, `DTL` or `TRL`",
            shorten(other)
        )),
    }
}

/// Collects every field error of one line, so the line is reported once with all
/// its reasons.
struct FieldErrors {
    names: &'static [&'static str],
    errors: Vec<String>,
}

impl FieldErrors {
    fn new(names: &'static [&'static str]) -> Self {
        FieldErrors {
            names,
            errors: Vec::new(),
        }
    }

    fn check<T>(&mut self, index: usize, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(reason) => {
                self.errors.push(format!(
                    "field {} ({}): {reason}",
                    index + 1,
                    self.names[index]
                ));
                None
            }
        }
    }

    fn push(&mut self, error: String) {
        self.errors.push(error);
    }

    fn finish(self) -> Result<(), String> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors.join("; "))
        }
    }
}

fn expect_field_count(fields: &[&str], names: &[&str]) -> Result<(), String> {
    if fields.len() == names.len() {
        return Ok(());
    }
    Err(format!(
        "{} record has {} fields, expected {} ({})",
        fields[0],
        fields.len(),
        names.len(),
        names.join(" | ")
    ))
}

fn parse_header(fields: &[&str]) -> Result<Header, String> {
    expect_field_count(fields, &HEADER_FIELDS)?;
    let mut errors = FieldErrors::new(&HEADER_FIELDS);
    if fields[1] != FILE_TYPE {
        errors.check::<()>(
            1,
            Err(format!(
                "`{}` is not a dividend announcement file, expected `{FILE_TYPE}`",
                shorten(fields[1])
            )),
        );
    }
    if fields[2] != FORMAT_VERSION {
        errors.check::<()>(
            2,
            Err(format!(
                "format version `{}` is not supported, expected `{FORMAT_VERSION}`",
                shorten(fields[2])
            )),
        );
    }
    let business_date = errors.check(3, parse_date(fields[3]));
    let sender = errors.check(4, parse_code(fields[4], 16));
    let sequence = errors.check(5, parse_sequence(fields[5]));
    errors.finish()?;
    match (business_date, sender, sequence) {
        (Some(business_date), Some(sender), Some(sequence)) => Ok(Header {
            business_date,
            sender,
            sequence,
        }),
        _ => Err("invalid header".to_owned()),
    }
}

fn parse_trailer(fields: &[&str]) -> Result<Record, String> {
    expect_field_count(fields, &TRAILER_FIELDS)?;
    let mut errors = FieldErrors::new(&TRAILER_FIELDS);
    let detail_count = errors.check(
        1,
        digits(fields[1], 1, 12)
            .and_then(|digits| digits.parse::<u64>().map_err(|error| error.to_string())),
    );
    errors.finish()?;
    detail_count
        .map(|detail_count| Record::Trailer { detail_count })
        .ok_or_else(|| "invalid trailer".to_owned())
}

fn parse_detail(line: u64, fields: &[&str]) -> Result<Detail, String> {
    expect_field_count(fields, &DETAIL_FIELDS)?;
    let mut errors = FieldErrors::new(&DETAIL_FIELDS);
    let announcement_id = errors.check(1, parse_code(fields[1], 20));
    let action = errors.check(2, parse_action(fields[2]));
    let cusip = errors.check(3, parse_cusip(fields[3]));
    let symbol = errors.check(4, parse_symbol(fields[4]));
    let issuer_name = errors.check(5, parse_name(fields[5]));
    let kind = errors.check(6, parse_kind(fields[6]));
    let declaration_date = errors.check(7, parse_date(fields[7]));
    let ex_date = errors.check(8, parse_date(fields[8]));
    let record_date = errors.check(9, parse_date(fields[9]));
    let pay_date = errors.check(10, parse_date(fields[10]));
    let rate = errors.check(11, parse_rate(fields[11]));
    let currency = errors.check(12, parse_currency(fields[12]));
    if let (Some(declaration), Some(ex), Some(record), Some(pay)) =
        (declaration_date, ex_date, record_date, pay_date)
    {
        for problem in dates_out_of_order(declaration, ex, record, pay) {
            errors.push(problem.to_string());
        }
    }
    errors.finish()?;
    match (
        announcement_id,
        action,
        cusip,
        symbol,
        issuer_name,
        kind,
        declaration_date,
        ex_date,
        record_date,
        pay_date,
        rate,
        currency,
    ) {
        (
            Some(announcement_id),
            Some(action),
            Some(cusip),
            Some(symbol),
            Some(issuer_name),
            Some(kind),
            Some(declaration_date),
            Some(ex_date),
            Some(record_date),
            Some(pay_date),
            Some(rate),
            Some(currency),
        ) => Ok(Detail {
            line,
            announcement_id,
            action,
            cusip,
            symbol,
            issuer_name,
            kind,
            declaration_date,
            ex_date,
            record_date,
            pay_date,
            rate,
            currency,
        }),
        _ => Err("invalid detail record".to_owned()),
    }
}

/// A field as it may be quoted in a message: long garbage is cut short.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

fn digits(text: &str, min: usize, max: usize) -> Result<&str, String> {
    if text.is_empty() {
        return Err("missing".to_owned());
    }
    if !text.bytes().all(|byte| byte.is_ascii_digit()) || text.len() < min || text.len() > max {
        return Err(if min == max {
            format!("`{}` is not {min} digits", shorten(text))
        } else {
            format!("`{}` is not {min} to {max} digits", shorten(text))
        });
    }
    Ok(text)
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let text = digits(text, 8, 8).map_err(|_| {
        format!(
            "`{}` is not a date in the form YYYYMMDD (e.g. 20260316)",
            shorten(text)
        )
    })?;
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .map_err(|_| format!("`{text}` is not a calendar date"))
}

fn parse_sequence(text: &str) -> Result<u32, String> {
    let text = digits(text, 1, 6)?;
    text.parse()
        .map_err(|error: std::num::ParseIntError| error.to_string())
}

/// An identifier of upper-case letters and digits (sender, announcement id).
fn parse_code(text: &str, max: usize) -> Result<String, String> {
    if text.is_empty() {
        return Err("missing".to_owned());
    }
    if text.len() > max
        || !text
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
    {
        return Err(format!(
            "`{}` is not 1 to {max} upper-case letters and digits",
            shorten(text)
        ));
    }
    Ok(text.to_owned())
}

fn parse_action(text: &str) -> Result<Action, String> {
    match text {
        "NEW" => Ok(Action::New),
        "COR" => Ok(Action::Correction),
        "CAN" => Ok(Action::Cancel),
        "" => Err("missing".to_owned()),
        other => Err(format!(
            "unknown action `{}`, expected `NEW`, `COR` or `CAN`",
            shorten(other)
        )),
    }
}

fn parse_kind(text: &str) -> Result<DividendKind, String> {
    match text {
        "REG" => Ok(DividendKind::Regular),
        "SPC" => Ok(DividendKind::Special),
        "ROC" => Ok(DividendKind::ReturnOfCapital),
        "" => Err("missing".to_owned()),
        other => Err(format!(
            "unknown kind `{}`, expected `REG`, `SPC` or `ROC`",
            shorten(other)
        )),
    }
}

/// A CUSIP: nine upper-case letters and digits whose last is the check digit.
fn parse_cusip(text: &str) -> Result<String, String> {
    let valid_characters = text
        .bytes()
        .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    if text.len() != 9 || !valid_characters {
        return Err(format!(
            "`{}` is not a CUSIP (9 upper-case letters and digits)",
            shorten(text)
        ));
    }
    let expected = cusip_check_digit(&text[..8]);
    if text.as_bytes()[8] != expected {
        return Err(format!(
            "`{text}` has check digit {}, expected {}; the CUSIP is mistyped",
            text.as_bytes()[8] as char,
            expected as char
        ));
    }
    Ok(text.to_owned())
}

/// The check digit of the first eight characters of a CUSIP (the "double add
/// double" modulus 10 scheme).
pub(crate) fn cusip_check_digit(base: &str) -> u8 {
    let mut sum = 0;
    for (position, byte) in base.bytes().enumerate() {
        let mut value = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'A'..=b'Z' => u32::from(byte - b'A') + 10,
            _ => 0,
        };
        if position % 2 == 1 {
            value *= 2;
        }
        sum += value / 10 + value % 10;
    }
    // The result is a single decimal digit, so the cast cannot truncate.
    b'0' + ((10 - sum % 10) % 10) as u8
}

fn parse_symbol(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 12
        && bytes[0].is_ascii_uppercase()
        && bytes[1..]
            .iter()
            .all(|&byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'.');
    if !valid {
        return Err(format!(
            "`{}` is not a ticker symbol (an upper-case letter, then up to 11 \
             upper-case letters, digits or dots)",
            shorten(text)
        ));
    }
    Ok(text.to_owned())
}

fn parse_name(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("missing".to_owned());
    }
    if text.chars().count() > 200 {
        return Err("longer than 200 characters".to_owned());
    }
    if text.chars().any(char::is_control) {
        return Err("contains control characters".to_owned());
    }
    Ok(text.to_owned())
}

/// The cash rate per share: digits, optionally a point and up to 8 decimals, at
/// most 10 integer digits (the column is `decimal(18, 8)`), and more than zero.
fn parse_rate(text: &str) -> Result<Decimal, String> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let is_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !is_digits(whole) || fraction.is_some_and(|fraction| !is_digits(fraction)) {
        return Err(format!(
            "`{}` is not a decimal amount like `0.2450`",
            shorten(text)
        ));
    }
    if whole.len() > 10 {
        return Err(format!(
            "`{}` has more than 10 digits before the point",
            shorten(text)
        ));
    }
    if fraction.is_some_and(|fraction| fraction.len() > 8) {
        return Err(format!(
            "`{}` has more than 8 decimal places",
            shorten(text)
        ));
    }
    let rate = Decimal::from_str_exact(text).map_err(|error| format!("`{text}`: {error}"))?;
    if rate.is_zero() {
        return Err("the rate is zero; a cancelled dividend is sent as `CAN`".to_owned());
    }
    Ok(rate)
}

fn parse_currency(text: &str) -> Result<String, String> {
    if text.len() != 3 || !text.bytes().all(|byte| byte.is_ascii_uppercase()) {
        return Err(format!(
            "`{}` is not an ISO 4217 currency code like `USD`",
            shorten(text)
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Record, String> {
        parse_line(1, Line::Text(text))
    }

    const DETAIL: &str =
        "DTL|DV1|NEW|037833100|AAPL|Apple Inc.|REG|20260129|20260209|20260209|20260212|0.26|USD";

    #[test]
    fn real_cusips_have_valid_check_digits() {
        for cusip in [
            "037833100",
            "594918104",
            "30231G102",
            "46625H100",
            "92343V104",
        ] {
            assert_eq!(parse_cusip(cusip).as_deref(), Ok(cusip));
        }
        let error = parse_cusip("037833101").expect_err("wrong check digit");
        assert!(error.contains("expected 0"), "{error}");
    }

    #[test]
    fn a_detail_record_parses_into_typed_values() {
        let Ok(Record::Detail(detail)) = parse(DETAIL) else {
            panic!("{:?}", parse(DETAIL));
        };
        assert_eq!(detail.announcement_id, "DV1");
        assert_eq!(detail.action, Action::New);
        assert_eq!(detail.kind, DividendKind::Regular);
        assert_eq!(detail.rate, Decimal::new(26, 2));
        assert_eq!(
            detail.pay_date,
            NaiveDate::from_ymd_opt(2026, 2, 12).unwrap()
        );
    }

    #[test]
    fn every_bad_field_of_a_line_is_reported() {
        let line = "DTL|DV1|UPD|037833100|AAPL|Apple Inc.|REG|20260229|20260209|20260209|20260212|0.2.6|USD";
        let error = parse(line).expect_err("three bad fields");
        assert!(
            error.contains("field 3 (action): unknown action `UPD`"),
            "{error}"
        );
        assert!(
            error.contains("field 8 (declaration date): `20260229` is not a calendar date"),
            "{error}"
        );
        assert!(
            error.contains("field 12 (rate): `0.2.6` is not a decimal"),
            "{error}"
        );
    }

    #[test]
    fn dates_must_be_in_order() {
        let line = "DTL|DV1|NEW|037833100|AAPL|Apple Inc.|REG|20260129|20260209|20260209|20260201|0.26|USD";
        let error = parse(line).expect_err("pay before ex");
        assert!(
            error.contains("the pay date 2026-02-01 is before the ex-date 2026-02-09"),
            "{error}"
        );
    }

    #[test]
    fn rates_are_exact_positive_decimals_that_fit_the_column() {
        assert_eq!(parse_rate("0.24500000"), Ok(Decimal::new(245, 3)));
        assert_eq!(parse_rate("3"), Ok(Decimal::new(3, 0)));
        for bad in [
            "",
            "-0.1",
            "1e3",
            ".5",
            "5.",
            "0.123456789",
            "12345678901",
            "0.0",
            "1,5",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn column_counts_are_checked_per_record_type() {
        let error = parse("DTL|DV1|NEW").expect_err("short");
        assert!(
            error.starts_with("DTL record has 3 fields, expected 13"),
            "{error}"
        );
        let error = parse("TRL|1|2").expect_err("long");
        assert!(
            error.starts_with("TRL record has 3 fields, expected 2"),
            "{error}"
        );
        let error = parse("XYZ|1").expect_err("unknown");
        assert!(error.contains("unknown record type `XYZ`"), "{error}");
    }

    #[test]
    fn the_reader_caps_line_length_and_numbers_lines() {
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        let input = format!("a\r\n{long}\n\u{e9}\nlast");
        let mut reader = LineReader::new(io::BufReader::with_capacity(16, input.as_bytes()));
        let mut lines = Vec::new();
        while let Some((number, line)) = reader.next_line().unwrap() {
            lines.push(format!("{number}:{line:?}"));
        }
        assert_eq!(
            lines,
            [
                "1:Text(\"a\")",
                "2:TooLong",
                "3:Text(\"\u{e9}\")",
                "4:Text(\"last\")"
            ]
        );
        let mut invalid = LineReader::new(&b"\xff\n"[..]);
        assert_eq!(invalid.next_line().unwrap(), Some((1, Line::NotUtf8)));
        assert_eq!(invalid.next_line().unwrap(), None);
    }
}
