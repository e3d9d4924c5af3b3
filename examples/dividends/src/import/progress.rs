//! Progress on stderr for large files: a bar on a terminal, and where stderr is
//! not one (a scheduled job, a log file) a line at each phase and every
//! [`LINE_INTERVAL`], so a long import never looks stuck.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Progress;

/// Files at least this large get progress.
const MIN_BYTES: u64 = 1 << 20;

/// How often a line is printed where stderr is not a terminal.
const LINE_INTERVAL: Duration = Duration::from_secs(10);

/// How progress is shown for one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Display {
    Hidden,
    Bar,
    Lines,
}

impl Display {
    pub(crate) fn choose(progress: Progress, file_bytes: u64) -> Display {
        if progress == Progress::Hidden || file_bytes < MIN_BYTES {
            Display::Hidden
        } else if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Lines
        }
    }
}

/// What a phase counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit {
    Bytes,
    Records,
}

impl Unit {
    fn total(self, count: u64) -> String {
        match self {
            Unit::Bytes => HumanBytes(count).to_string(),
            Unit::Records => format!("{} records", HumanCount(count)),
        }
    }

    fn done(self, done: u64, total: u64) -> String {
        let percent = done * 100 / total.max(1);
        match self {
            Unit::Bytes => format!("{} of {} ({percent}%)", HumanBytes(done), HumanBytes(total)),
            Unit::Records => format!(
                "{} of {} records ({percent}%)",
                HumanCount(done),
                HumanCount(total)
            ),
        }
    }

    fn bar_counts(self) -> &'static str {
        match self {
            Unit::Bytes => "{binary_bytes}/{binary_total_bytes}",
            Unit::Records => "{human_pos}/{human_len} records",
        }
    }
}

/// One phase of an import (checking, importing); its counter is advanced
/// through [`Phase::bar`], and it ends when dropped.
#[derive(Debug)]
pub(crate) struct Phase {
    bar: ProgressBar,
    lines: Option<tokio::task::JoinHandle<()>>,
}

impl Phase {
    pub(crate) fn start(display: Display, step: &'static str, length: u64, unit: Unit) -> Phase {
        match display {
            Display::Hidden => Phase {
                bar: ProgressBar::hidden(),
                lines: None,
            },
            Display::Bar => {
                let template = format!(
                    "{step:>9} [{{bar:40}}] {{percent:>3}}% {} eta {{eta}}",
                    unit.bar_counts()
                );
                let style = ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr())
                    .with_style(style);
                Phase { bar, lines: None }
            }
            Display::Lines => {
                eprintln!("{step}: {}", unit.total(length));
                let bar = ProgressBar::hidden();
                bar.set_length(length);
                let counter = bar.clone();
                let lines = tokio::spawn(async move {
                    let mut ticks = tokio::time::interval(LINE_INTERVAL);
                    ticks.tick().await;
                    loop {
                        ticks.tick().await;
                        eprintln!("{step}: {}", unit.done(counter.position(), length));
                    }
                });
                Phase {
                    bar,
                    lines: Some(lines),
                }
            }
        }
    }

    /// The counter to advance.
    pub(crate) fn bar(&self) -> &ProgressBar {
        &self.bar
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        if let Some(lines) = &self.lines {
            lines.abort();
        }
    }
}

/// Shows that the writes are done and the transaction is committing (on a large
/// file, the last seconds of the import, when the counter already says 100%).
pub(crate) fn committing(display: Display, records: u64) -> ProgressBar {
    let message = format!("committing {} records...", HumanCount(records));
    match display {
        Display::Hidden => ProgressBar::hidden(),
        Display::Bar => {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                )
                .with_message(message);
            spinner.enable_steady_tick(Duration::from_millis(200));
            spinner
        }
        Display::Lines => {
            eprintln!("{message}");
            ProgressBar::hidden()
        }
    }
}
