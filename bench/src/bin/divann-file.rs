//! Writes a valid daily dividend file (`examples/dividends/FILE_FORMAT.md`) of
//! `RECORDS` new announcements over `RECORDS / 20` securities to standard
//! output, for measuring the import (see BENCHMARKS.md, "The import's memory").
//!
//! ```text
//! divann-file 1000000 > /tmp/divann-1m.txt
//! ```

use std::io::{BufWriter, Write as _};
use std::process::ExitCode;

use chrono::{Days, NaiveDate};

fn main() -> ExitCode {
    let Some(records) = std::env::args()
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
    else {
        eprintln!("usage: divann-file RECORDS > FILE");
        return ExitCode::FAILURE;
    };
    match write(records) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("divann-file: {error}");
            ExitCode::FAILURE
        }
    }
}

fn write(records: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let securities = (records / 20).max(1);
    let first_ex_date = NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date");
    writeln!(out, "HDR|DIVANN|1|20260316|NBCLEAR|000999")?;
    for index in 0..records {
        let security = index % securities;
        let ex_date = first_ex_date + Days::new(7 * (index / securities) as u64);
        let ex = ex_date.format("%Y%m%d");
        writeln!(
            out,
            "DTL|G{index:09}|NEW|{}|X{security}|Generated Issuer {security} Inc.|REG|{}|{ex}|{ex}|{}|0.{:04}|USD",
            cusip(&format!("9{security:07}")),
            (ex_date - Days::new(10)).format("%Y%m%d"),
            (ex_date + Days::new(14)).format("%Y%m%d"),
            index % 10_000 + 1,
        )?;
    }
    writeln!(out, "TRL|{records}")?;
    out.flush()
}

/// `base` with its CUSIP check digit ("double add double", modulus 10).
fn cusip(base: &str) -> String {
    let sum: u32 = base
        .bytes()
        .enumerate()
        .map(|(position, byte)| {
            let value = match byte {
                b'0'..=b'9' => u32::from(byte - b'0'),
                _ => u32::from(byte - b'A') + 10,
            } * if position % 2 == 1 { 2 } else { 1 };
            value / 10 + value % 10
        })
        .sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}
