//! The second pass: reads the validated file again and writes it in batches,
//! inside the caller's transaction. Memory holds one batch at a time.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use fw::{Model, Ref, Tx};
use indicatif::ProgressBar;

use super::parse::{Action, Detail, LineReader, Record, parse_line};
use super::validate::ValidFile;
use super::{ImportError, ImportSummary, Problem};
use crate::models::{Dividend, DividendStatus, NewDividend, NewSecurity, Security};

/// Writes every detail record of the file at `path`, which the first pass found
/// valid, `batch_size` records at a time.
pub(crate) async fn write_file(
    tx: &mut Tx,
    path: &Path,
    valid: &ValidFile,
    batch_size: usize,
    progress: &ProgressBar,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let changed = || ImportError::Changed {
        path: path.to_owned(),
    };
    let read_error = |source| ImportError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let mut reader = LineReader::new(BufReader::with_capacity(64 * 1024, file));
    let batch_size = batch_size.max(1);
    let mut batch: Vec<Detail> = Vec::with_capacity(batch_size);
    // Reading is synchronous: a batch of lines comes from the page cache in well
    // under a millisecond, far less than the writes that follow it.
    while let Some((number, line)) = reader.next_line().map_err(read_error)? {
        match parse_line(number, line) {
            Ok(Record::Detail(detail)) => batch.push(*detail),
            Ok(Record::Header(_) | Record::Trailer { .. }) => {}
            Err(_) => return Err(changed()),
        }
        if batch.len() == batch_size {
            write_batch(tx, path, &batch, summary).await?;
            progress.inc(batch.len() as u64);
            batch.clear();
        }
    }
    if !batch.is_empty() {
        write_batch(tx, path, &batch, summary).await?;
        progress.inc(batch.len() as u64);
    }
    if reader.content_fingerprint() != valid.content_fingerprint
        || summary.records != valid.detail_count
    {
        return Err(changed());
    }
    Ok(())
}

fn database_error(path: &Path) -> impl Fn(fw::Error) -> ImportError + '_ {
    move |source| ImportError::Database {
        path: path.to_owned(),
        source,
    }
}

async fn write_batch(
    tx: &mut Tx,
    path: &Path,
    batch: &[Detail],
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    summary.batches += 1;
    summary.largest_batch = summary.largest_batch.max(batch.len());
    summary.records += batch.len() as u64;
    let security_ids = write_securities(tx, path, batch, summary).await?;

    let ids: Vec<String> = batch
        .iter()
        .map(|detail| detail.announcement_id.clone())
        .collect();
    let mut existing: HashMap<String, Dividend> = Dividend::query()
        .filter(Dividend::ANNOUNCEMENT_ID.is_in(ids))
        .all(&mut *tx)
        .await
        .map_err(database_error(path))?
        .into_iter()
        .map(|dividend| (dividend.announcement_id.clone(), dividend))
        .collect();
    let mut inserts = Vec::new();
    for detail in batch {
        let security = Ref::new(security_ids[detail.cusip.as_str()]);
        let change = reconcile(existing.remove(&detail.announcement_id), detail, security);
        let outcome = match change {
            Change::Insert(new, outcome) => {
                inserts.push(*new);
                outcome
            }
            Change::Update(row, outcome) => {
                row.update(&mut *tx).await.map_err(database_error(path))?;
                outcome
            }
            Change::Unchanged => Outcome::Unchanged,
        };
        match outcome {
            Outcome::New => summary.new += 1,
            Outcome::Updated => summary.updated += 1,
            Outcome::Cancelled => summary.cancelled += 1,
            Outcome::Unchanged => summary.unchanged += 1,
        }
    }
    Dividend::insert_many(&mut *tx, inserts)
        .await
        .map_err(database_error(path))?;
    Ok(())
}

/// Inserts or updates the batch's securities by CUSIP and returns each CUSIP's
/// key. When a CUSIP appears more than once, its last record wins.
async fn write_securities<'b>(
    tx: &mut Tx,
    path: &Path,
    batch: &'b [Detail],
    summary: &mut ImportSummary,
) -> Result<HashMap<&'b str, i64>, ImportError> {
    let mut latest: HashMap<&str, &Detail> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for detail in batch {
        if latest.insert(&detail.cusip, detail).is_none() {
            order.push(&detail.cusip);
        }
    }
    let existing: HashMap<String, Security> = Security::query()
        .filter(Security::CUSIP.is_in(order.iter().map(|cusip| (*cusip).to_owned())))
        .all(&mut *tx)
        .await
        .map_err(database_error(path))?
        .into_iter()
        .map(|security| (security.cusip.clone(), security))
        .collect();
    let mut ids = HashMap::with_capacity(order.len());
    for cusip in order {
        let detail = latest[cusip];
        let id = match existing.get(cusip) {
            Some(security)
                if security.symbol == detail.symbol && security.name == detail.issuer_name =>
            {
                security.id
            }
            Some(security) => {
                let mut renamed = security.clone();
                renamed.symbol.clone_from(&detail.symbol);
                renamed.name.clone_from(&detail.issuer_name);
                let stored = renamed
                    .update(&mut *tx)
                    .await
                    .map_err(|error| security_error(path, detail, error))?;
                summary.securities_updated += 1;
                stored.id
            }
            None => {
                let new = NewSecurity {
                    symbol: detail.symbol.clone(),
                    cusip: detail.cusip.clone(),
                    name: detail.issuer_name.clone(),
                };
                let stored = Security::insert(&mut *tx, new)
                    .await
                    .map_err(|error| security_error(path, detail, error))?;
                summary.securities_new += 1;
                stored.id
            }
        };
        ids.insert(cusip, id);
    }
    Ok(ids)
}

/// A symbol already held by another CUSIP is a problem with the file's line (or
/// a ticker change the file does not show), not with the database.
fn security_error(path: &Path, detail: &Detail, error: fw::Error) -> ImportError {
    match &error {
        fw::Error::UniqueViolation { fields, .. } if fields.contains(&"symbol") => {
            ImportError::Rejected {
                path: path.to_owned(),
                problems: vec![Problem {
                    line: detail.line,
                    reason: format!(
                        "symbol `{}` already belongs to a security with another CUSIP than \
                         `{}`; if the ticker moved, the other security's new symbol must be \
                         imported first",
                        detail.symbol, detail.cusip
                    ),
                }],
                more: 0,
            }
        }
        _ => database_error(path)(error),
    }
}

/// How one record changed the stored announcements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    New,
    Updated,
    Cancelled,
    Unchanged,
}

#[derive(Debug)]
enum Change {
    Insert(Box<NewDividend>, Outcome),
    Update(Box<Dividend>, Outcome),
    Unchanged,
}

/// Decides what a record does to the stored announcement with its id, if any.
///
/// A record that states what is already stored changes nothing, which is what
/// makes importing a file twice harmless. Otherwise: a new announcement is
/// `announced`, a correction (or a `NEW` that differs from what is stored) makes
/// it `changed`, and a cancellation makes it `cancelled`.
fn reconcile(stored: Option<Dividend>, detail: &Detail, security: Ref<Security>) -> Change {
    let Some(stored) = stored else {
        let (status, outcome) = match detail.action {
            Action::New => (DividendStatus::Announced, Outcome::New),
            Action::Correction => (DividendStatus::Changed, Outcome::New),
            Action::Cancel => (DividendStatus::Cancelled, Outcome::Cancelled),
        };
        let new = NewDividend {
            announcement_id: detail.announcement_id.clone(),
            security,
            declaration_date: detail.declaration_date,
            ex_date: detail.ex_date,
            record_date: detail.record_date,
            pay_date: detail.pay_date,
            rate: detail.rate,
            currency: detail.currency.clone(),
            kind: detail.kind,
            status,
        };
        return Change::Insert(Box::new(new), outcome);
    };
    let same_terms = stored.security == security
        && stored.declaration_date == detail.declaration_date
        && stored.ex_date == detail.ex_date
        && stored.record_date == detail.record_date
        && stored.pay_date == detail.pay_date
        && stored.rate == detail.rate
        && stored.currency == detail.currency
        && stored.kind == detail.kind;
    let was_cancelled = stored.status == DividendStatus::Cancelled;
    let (status, outcome) = match detail.action {
        Action::New if same_terms => return Change::Unchanged,
        Action::Correction if same_terms && !was_cancelled => return Change::Unchanged,
        Action::Cancel if same_terms && was_cancelled => return Change::Unchanged,
        Action::New | Action::Correction => (DividendStatus::Changed, Outcome::Updated),
        Action::Cancel if was_cancelled => (DividendStatus::Cancelled, Outcome::Updated),
        Action::Cancel => (DividendStatus::Cancelled, Outcome::Cancelled),
    };
    let mut updated = stored;
    updated.security = security;
    updated.declaration_date = detail.declaration_date;
    updated.ex_date = detail.ex_date;
    updated.record_date = detail.record_date;
    updated.pay_date = detail.pay_date;
    updated.rate = detail.rate;
    updated.currency.clone_from(&detail.currency);
    updated.kind = detail.kind;
    updated.status = status;
    Change::Update(Box::new(updated), outcome)
}
