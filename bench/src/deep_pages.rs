//! Deep pages: the example's unfiltered dividend list (`GET /dividends`, newest
//! ex-date first, 50 a page), its first page against a page far into it,
//! on both servers over a million dividends (see BENCHMARKS.md, "Deep
//! pages"). A keyset page should cost what the first page costs however deep
//! it is: the target is a deep page at 0.67 or more of the first page's
//! throughput.

use std::fmt;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;

use crate::client::{Connection, Request};
use crate::data::{Baselines, DataSize, Databases, Engine, Grants};
use crate::load::{Bounds, Sample, drive_requests};
use crate::scenario::Scenario;
use crate::server::{Executables, ServerProcess};

/// The example's page size for dividends.
const PAGE_SIZE: u32 = 50;

/// The example's default ordering for dividends, as a cursor names it.
const ORDERING: &str = "-ex_date";

/// Options of a timed run.
#[derive(Debug, Clone, Copy)]
pub struct DeepPageOptions {
    /// The database engine.
    pub engine: Engine,
    /// Measured time per page and server, split into alternating rounds.
    pub duration: Duration,
    /// Concurrent connections of the load generator.
    pub connections: usize,
    /// Alternating rounds per page (fw, baseline, baseline, fw, ...).
    pub rounds: u32,
}

/// A page of the list: the first, or the one after the `after`-th row.
#[derive(Debug, Clone)]
pub struct Page {
    /// The rows before the page.
    pub after: u32,
    /// `GET /dividends`, with the cursor of the `after`-th row when there is one.
    pub request: Request,
}

impl Page {
    /// A name for reports: `page 200 (rows 9951-10000)`.
    pub fn name(&self) -> String {
        format!(
            "page {} (rows {}-{})",
            self.after / PAGE_SIZE + 1,
            self.after + 1,
            self.after + PAGE_SIZE
        )
    }
}

/// The pages measured: the first, the 200th (or, in a table too small for
/// it, the one a third of the way in) and the one in the middle.
async fn pages(url: &str, dividends: u32) -> anyhow::Result<Vec<Page>> {
    let mut pages = vec![Page {
        after: 0,
        request: Request::get("/dividends"),
    }];
    let page_200 = 199 * PAGE_SIZE;
    let deep = if page_200 + PAGE_SIZE <= dividends {
        page_200
    } else {
        dividends / 3
    };
    let db = fw::Db::connect(url).await?;
    for after in [deep, dividends / 2] {
        let (ex_date, id) = fw::sql(
            "SELECT ex_date, id FROM dividend ORDER BY ex_date DESC, id DESC LIMIT 1 OFFSET $1",
        )
        .bind(i64::from(after) - 1)
        .fetch_one(&db, |row| {
            Ok((row.get::<NaiveDate>(0)?, row.get::<i64>(1)?))
        })
        .await
        .with_context(|| format!("reading the {after}th dividend"))?;
        // The cursor of the `next` link of the page that ends there, as both
        // servers write it.
        let cursor = serde_json::json!({"o": ORDERING, "b": false, "v": [ex_date, id]});
        let token = URL_SAFE_NO_PAD.encode(cursor.to_string());
        pages.push(Page {
            after,
            request: Request::get(format!("/dividends?cursor={token}")),
        });
    }
    db.close().await;
    Ok(pages)
}

/// The ids of the page after the `after`-th row, by `OFFSET`: what a page must
/// hold.
async fn expected_ids(url: &str, after: u32) -> anyhow::Result<Vec<i64>> {
    let db = fw::Db::connect(url).await?;
    let ids = fw::sql("SELECT id FROM dividend ORDER BY ex_date DESC, id DESC LIMIT $1 OFFSET $2")
        .bind(i64::from(PAGE_SIZE))
        .bind(i64::from(after))
        .fetch_all(&db, |row| row.get::<i64>(0))
        .await;
    db.close().await;
    Ok(ids?)
}

/// Checks that both servers answer every page alike, and with the rows
/// `OFFSET` finds there.
async fn check_pages(
    fw: &ServerProcess,
    baseline: &ServerProcess,
    databases: &Databases,
    pages: &[Page],
) -> anyhow::Result<()> {
    let operator = Some(databases.credentials.operator.as_str());
    let mut fw_connection = Connection::open(fw.address, operator).await?;
    let mut baseline_connection = Connection::open(baseline.address, operator).await?;
    for page in pages {
        let fw_answer = fw_connection.send(&page.request).await?;
        let baseline_answer = baseline_connection.send(&page.request).await?;
        ensure!(
            fw_answer.status == 200 && baseline_answer.status == 200,
            "{}: fw answered {}, the baseline {}",
            page.name(),
            fw_answer.status,
            baseline_answer.status
        );
        let fw_json: serde_json::Value = serde_json::from_slice(&fw_answer.body)?;
        let baseline_json: serde_json::Value = serde_json::from_slice(&baseline_answer.body)?;
        ensure!(
            fw_json == baseline_json,
            "{}: the servers answered differently:\n  fw       {fw_json}\n  baseline {baseline_json}",
            page.name()
        );
        let ids: Vec<i64> = fw_json["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| row["id"].as_i64())
            .collect();
        let expected = expected_ids(&databases.fw_url, page.after).await?;
        ensure!(
            ids == expected,
            "{}: the page holds {ids:?}, OFFSET finds {expected:?}",
            page.name()
        );
    }
    Ok(())
}

/// One page's figures for one server.
#[derive(Debug, Clone)]
pub struct PageFigures {
    /// Requests per second.
    pub throughput: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Server CPU time (user + system) per request, microseconds.
    pub cpu_us_per_request: f64,
    /// Requests measured.
    pub requests: usize,
}

impl PageFigures {
    fn new(sample: &Sample, cpu: Duration) -> PageFigures {
        PageFigures {
            throughput: sample.throughput(),
            p50_ms: sample.latency_ms(0.50),
            p99_ms: sample.latency_ms(0.99),
            cpu_us_per_request: cpu.as_secs_f64() * 1e6 / (sample.latencies_us.len().max(1) as f64),
            requests: sample.latencies_us.len(),
        }
    }
}

/// A whole run on one engine: each page's figures for fw and the baseline.
#[derive(Debug, Clone)]
pub struct DeepPageReport {
    /// The engine.
    pub engine: Engine,
    /// Concurrent connections.
    pub connections: usize,
    /// Dividends in the table.
    pub dividends: u32,
    /// Per page, the first first: its name, fw's figures and the baseline's.
    pub pages: Vec<(String, PageFigures, PageFigures)>,
}

impl fmt::Display for DeepPageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "engine: {}, {} connections, {} dividends, GET /dividends (newest first, {PAGE_SIZE} a page)",
            self.engine.name(),
            self.connections,
            self.dividends
        )?;
        writeln!(
            f,
            "{:<28} {:<9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>12}",
            "page", "server", "req/s", "p50 ms", "p99 ms", "CPU us/r", "requests", "/ first page"
        )?;
        let Some((_, fw_first, baseline_first)) = self.pages.first() else {
            return Ok(());
        };
        for (name, fw, baseline) in &self.pages {
            for (server, figures, first) in
                [("fw", fw, fw_first), ("baseline", baseline, baseline_first)]
            {
                writeln!(
                    f,
                    "{:<28} {:<9} {:>9.0} {:>9.2} {:>9.2} {:>9.0} {:>8} {:>12.3}",
                    name,
                    server,
                    figures.throughput,
                    figures.p50_ms,
                    figures.p99_ms,
                    figures.cpu_us_per_request,
                    figures.requests,
                    figures.throughput / first.throughput.max(1e-9)
                )?;
            }
            writeln!(
                f,
                "{:<28} {:<9} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                name,
                "fw/base",
                fw.throughput / baseline.throughput.max(1e-9),
                fw.p50_ms / baseline.p50_ms.max(1e-9),
                fw.p99_ms / baseline.p99_ms.max(1e-9),
                fw.cpu_us_per_request / baseline.cpu_us_per_request.max(1e-9)
            )?;
        }
        Ok(())
    }
}

/// The grants the list needs: viewing dividends (the reader is unused).
fn grants() -> Grants {
    Grants {
        operator: vec![Scenario::List.permission()],
        reader: vec![Scenario::List.permission()],
    }
}

/// Seeds a million dividends per server (see [`DataSize::DEEP`]), starts both
/// servers, checks that they answer every page alike and as `OFFSET` finds
/// it, then drives them alternately through each page.
///
/// # Errors
///
/// When a database, a server or a request fails, or a page is wrong.
pub async fn measure(
    executables: Executables<'_>,
    options: DeepPageOptions,
) -> anyhow::Result<DeepPageReport> {
    let size = DataSize::DEEP;
    eprintln!(
        "seeding {} ({} dividends) twice...",
        options.engine.name(),
        size.dividends()
    );
    let databases = Databases::create(options.engine, size, &grants(), Baselines::SameWork).await?;
    let result = measure_with(executables, &databases, size, options).await;
    databases.remove().await;
    result
}

async fn measure_with(
    executables: Executables<'_>,
    databases: &Databases,
    size: DataSize,
    options: DeepPageOptions,
) -> anyhow::Result<DeepPageReport> {
    let pages = pages(&databases.fw_url, size.dividends()).await?;
    let (fw, baseline) = executables
        .start(&databases.fw_url, &databases.baseline_url)
        .await?;
    let servers = [&fw, &baseline];
    check_pages(&fw, &baseline, databases, &pages).await?;
    let rounds = options.rounds.max(1);
    let bounds = Bounds {
        duration: options.duration / rounds,
        max_requests: 200_000 * (options.duration / rounds).as_secs().max(1),
        connections: options.connections,
    };
    let warm_up = Bounds {
        duration: Duration::from_millis(500),
        max_requests: 500,
        connections: options.connections,
    };
    let mut report = DeepPageReport {
        engine: options.engine,
        connections: options.connections,
        dividends: size.dividends(),
        pages: Vec::new(),
    };
    let operator = databases.credentials.operator.as_str();
    for page in &pages {
        eprintln!("  {} ...", page.name());
        let drive = move |server: &ServerProcess, bounds: Bounds| {
            let request = page.request.clone();
            drive_requests(
                server.address,
                operator,
                move |_| request.clone(),
                200,
                0,
                bounds,
            )
        };
        for server in servers {
            drive(server, warm_up).await?;
        }
        let mut samples = [Sample::default(), Sample::default()];
        let mut cpu = [Duration::ZERO; 2];
        for round in 0..rounds {
            // fw, baseline, baseline, fw, ...: neither always runs second.
            let order = if round.is_multiple_of(2) {
                [0, 1]
            } else {
                [1, 0]
            };
            for i in order {
                let cpu_before = servers[i].cpu_time()?;
                let sample = drive(servers[i], bounds).await.with_context(|| {
                    format!("{} on {}", page.name(), servers[i].implementation.name())
                })?;
                cpu[i] += servers[i].cpu_time()?.saturating_sub(cpu_before);
                samples[i].merge(sample);
            }
        }
        report.pages.push((
            page.name(),
            PageFigures::new(&samples[0], cpu[0]),
            PageFigures::new(&samples[1], cpu[1]),
        ));
    }
    fw.stop().await;
    baseline.stop().await;
    Ok(report)
}

/// The smoke run: a few hundred dividends, half of them inserted in bulk as
/// the timed run's million are, and the check that both servers answer the
/// first, a deep and the middle page alike and as `OFFSET` finds them.
/// Nothing is timed.
///
/// # Errors
///
/// When anything fails or a page is wrong.
pub async fn smoke(executables: Executables<'_>, engine: Engine) -> anyhow::Result<()> {
    let size = DataSize {
        bulk_dividends: 300,
        ..DataSize::SMOKE
    };
    let databases = Databases::create(engine, size, &grants(), Baselines::SameWork).await?;
    let result = async {
        let pages = pages(&databases.fw_url, size.dividends()).await?;
        let (fw, baseline) = executables
            .start(&databases.fw_url, &databases.baseline_url)
            .await?;
        let checked = check_pages(&fw, &baseline, &databases, &pages).await;
        fw.stop().await;
        baseline.stop().await;
        checked
    }
    .await;
    databases.remove().await;
    result
}
