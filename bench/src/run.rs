//! The benchmark run and the smoke run.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::client::Connection;
use crate::data::{Baselines, DataSize, Databases, Engine, Grants};
use crate::load::{Bounds, Sample, drive};
use crate::scenario::Scenario;
use crate::server::{Executables, Implementation, Memory, ServerProcess};

/// Options of a timed run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The database engine.
    pub engine: Engine,
    /// Measured time per scenario, server and connection count, split into
    /// alternating rounds.
    pub duration: Duration,
    /// Concurrent connections of the load generator: every scenario is
    /// measured at each count, in this order.
    pub connections: Vec<usize>,
    /// Alternating rounds per scenario (fw, baseline, baseline, fw, ...).
    pub rounds: u32,
    /// The scenarios to measure, run in [`Scenario::ALL`]'s order. With the
    /// create among them the log-free baseline runs too, for the creates.
    pub scenarios: Vec<Scenario>,
}

/// One scenario's figures for one server.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Requests per second.
    pub throughput: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Peak resident memory during the scenario, KiB.
    pub peak_kib: u64,
    /// Peak anonymous resident memory (heap and stacks) during the scenario,
    /// sampled every 10 ms, KiB.
    pub peak_anonymous_kib: u64,
    /// Requests measured.
    pub requests: usize,
    /// Server CPU time (user + system) per request, microseconds: the figure
    /// least disturbed by other work on a shared machine.
    pub cpu_us_per_request: f64,
}

impl Figures {
    fn new(sample: &Sample, memory: Memory, peak_anonymous_kib: u64, cpu: Duration) -> Figures {
        Figures {
            cpu_us_per_request: cpu.as_secs_f64() * 1e6 / (sample.latencies_us.len().max(1) as f64),
            throughput: sample.throughput(),
            p50_ms: sample.latency_ms(0.50),
            p99_ms: sample.latency_ms(0.99),
            peak_kib: memory.peak_kib,
            peak_anonymous_kib,
            requests: sample.latencies_us.len(),
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario.
    pub scenario: Scenario,
    /// fw's figures.
    pub fw: Figures,
    /// The baseline's figures.
    pub baseline: Figures,
    /// The log-free baseline's figures: for the create only.
    pub log_free: Option<Figures>,
}

/// The scenarios measured at one connection count on one engine.
#[derive(Debug, Clone)]
pub struct Report {
    /// The engine.
    pub engine: Engine,
    /// Concurrent connections of the load generator.
    pub connections: usize,
    /// Per scenario.
    pub results: Vec<ScenarioResult>,
    /// Resident memory of fw and the baseline when idle after seeding and
    /// warm-up, KiB.
    pub idle_kib: (u64, u64),
}

impl Report {
    /// A plain-text table with the fw / baseline ratios, and for the create
    /// the fw / log-free baseline ratios.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "engine: {}, {} connections; idle RSS fw {:.1} MiB, baseline {:.1} MiB",
            self.engine.name(),
            self.connections,
            self.idle_kib.0 as f64 / 1024.0,
            self.idle_kib.1 as f64 / 1024.0
        );
        let _ = writeln!(
            out,
            "{:<9} {:<11} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9} {:>8}",
            "scenario",
            "server",
            "req/s",
            "p50 ms",
            "p99 ms",
            "peak MiB",
            "anon MiB",
            "CPU us/r",
            "requests"
        );
        for result in &self.results {
            let mut servers = vec![("fw", &result.fw), ("baseline", &result.baseline)];
            servers.extend(
                result
                    .log_free
                    .as_ref()
                    .map(|figures| ("log-free", figures)),
            );
            for (name, figures) in &servers {
                let _ = writeln!(
                    out,
                    "{:<9} {:<11} {:>9.0} {:>9.2} {:>9.2} {:>10.1} {:>10.1} {:>9.0} {:>8}",
                    result.scenario.name(),
                    name,
                    figures.throughput,
                    figures.p50_ms,
                    figures.p99_ms,
                    figures.peak_kib as f64 / 1024.0,
                    figures.peak_anonymous_kib as f64 / 1024.0,
                    figures.cpu_us_per_request,
                    figures.requests
                );
            }
            let mut against = vec![("fw/base", &result.baseline)];
            against.extend(
                result
                    .log_free
                    .as_ref()
                    .map(|figures| ("fw/log-free", figures)),
            );
            for (name, other) in against {
                let fw = &result.fw;
                let _ = writeln!(
                    out,
                    "{:<9} {:<11} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>10.3} {:>9.3}",
                    result.scenario.name(),
                    name,
                    fw.throughput / other.throughput.max(1e-9),
                    fw.p50_ms / other.p50_ms.max(1e-9),
                    fw.p99_ms / other.p99_ms.max(1e-9),
                    fw.peak_kib as f64 / (other.peak_kib as f64).max(1.0),
                    fw.peak_anonymous_kib as f64 / (other.peak_anonymous_kib as f64).max(1.0),
                    fw.cpu_us_per_request / other.cpu_us_per_request.max(1e-9)
                );
            }
        }
        out
    }
}

/// The creates of `reports` (one engine, one report per connection count)
/// side by side: each server's creates per second by connection count, so
/// whether throughput grows with connections shows, and fw's throughput
/// against the same-work and the log-free baselines. `None` without a
/// measured create.
pub fn create_sweep(reports: &[Report]) -> Option<String> {
    let rows: Vec<(usize, &ScenarioResult, &Figures)> = reports
        .iter()
        .filter_map(|report| {
            let create = report
                .results
                .iter()
                .find(|result| result.scenario == Scenario::Create)?;
            Some((report.connections, create, create.log_free.as_ref()?))
        })
        .collect();
    let engine = reports.first()?.engine;
    if rows.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(out, "creates by connections, {}:", engine.name());
    let _ = writeln!(
        out,
        "{:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "connections", "fw/s", "base/s", "free/s", "fw p50", "free p50", "fw/base", "fw/log-free"
    );
    for (connections, create, log_free) in rows {
        let _ = writeln!(
            out,
            "{:>11} {:>9.0} {:>9.0} {:>9.0} {:>9.2} {:>9.2} {:>9.3} {:>12.3}",
            connections,
            create.fw.throughput,
            create.baseline.throughput,
            log_free.throughput,
            create.fw.p50_ms,
            log_free.p50_ms,
            create.fw.throughput / create.baseline.throughput.max(1e-9),
            create.fw.throughput / log_free.throughput.max(1e-9)
        );
    }
    Some(out)
}

/// Seeds one database per server, starts the servers from `executables` and
/// drives them alternately through the scenarios at each connection count:
/// one report per count, in order.
///
/// # Errors
///
/// When a database, a server or a request fails.
pub async fn run(executables: Executables<'_>, options: RunOptions) -> anyhow::Result<Vec<Report>> {
    let size = DataSize::FULL;
    let creates = options.scenarios.contains(&Scenario::Create);
    let baselines = if creates {
        Baselines::SameWorkAndLogFree
    } else {
        Baselines::SameWork
    };
    eprintln!(
        "seeding {} ({} securities, {} dividends) for each server...",
        options.engine.name(),
        size.securities,
        size.dividends()
    );
    let databases = Databases::create(options.engine, size, &benchmark_grants(), baselines).await?;
    let result = run_with(executables, &databases, size, &options).await;
    databases.remove().await;
    result
}

async fn run_with(
    executables: Executables<'_>,
    databases: &Databases,
    size: DataSize,
    options: &RunOptions,
) -> anyhow::Result<Vec<Report>> {
    let (fw, baseline) = executables
        .start(&databases.fw_url, &databases.baseline_url)
        .await?;
    let log_free = match &databases.log_free_url {
        Some(url) => Some(executables.start_one(Implementation::LogFree, url).await?),
        None => None,
    };
    let mut servers = vec![&fw, &baseline];
    servers.extend(log_free.as_ref());
    let scenarios: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|scenario| options.scenarios.contains(scenario))
        .collect();
    // Request indexes are shared by the servers per scenario; each server's
    // create indexes advance separately so announcement ids stay unique.
    let mut next_index = vec![[0_u64; 3]; Scenario::ALL.len()];
    let first_connections = options.connections.first().copied().unwrap_or(1);
    for scenario in &scenarios {
        if *scenario == Scenario::Create {
            continue;
        }
        for (i, server) in servers.iter().take(2).enumerate() {
            let sample = drive(
                server.address,
                &databases.credentials.operator,
                *scenario,
                size,
                next_index[*scenario as usize][i],
                warm_up(first_connections),
            )
            .await?;
            next_index[*scenario as usize][i] = sample.next_index;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_kib = (fw.memory()?.current_kib, baseline.memory()?.current_kib);
    let mut reports = Vec::new();
    for &connections in &options.connections {
        let mut results = Vec::new();
        for &scenario in &scenarios {
            eprintln!("  {} at {connections} connections ...", scenario.name());
            // The log-free baseline answers the create alone: its reads are
            // the baseline's.
            let measured = if scenario == Scenario::Create {
                &servers[..]
            } else {
                &servers[..2]
            };
            let figures = measure(
                measured,
                databases,
                size,
                scenario,
                connections,
                options,
                &mut next_index[scenario as usize],
            )
            .await?;
            let mut figures = figures.into_iter();
            let (Some(fw), Some(baseline)) = (figures.next(), figures.next()) else {
                bail!(
                    "fw-bench bug: {} measured without fw or the baseline",
                    scenario.name()
                );
            };
            results.push(ScenarioResult {
                scenario,
                fw,
                baseline,
                log_free: figures.next(),
            });
        }
        reports.push(Report {
            engine: options.engine,
            connections,
            results,
            idle_kib,
        });
    }
    fw.stop().await;
    baseline.stop().await;
    if let Some(log_free) = log_free {
        log_free.stop().await;
    }
    Ok(reports)
}

/// A short unmeasured run at `connections`, which opens the servers' pool
/// connections and fills their caches before the measured one.
fn warm_up(connections: usize) -> Bounds {
    Bounds {
        duration: Duration::from_millis(500),
        max_requests: 500,
        connections,
    }
}

/// Drives `servers` through `scenario` at `connections` in alternating
/// rounds (fw, baseline, log-free; baseline, log-free, fw; ...: none always
/// runs first), and returns each server's figures, in the order of
/// `servers`. A create is warmed up first: it runs after the reads, so the
/// rows it adds are never in what they read.
async fn measure(
    servers: &[&ServerProcess],
    databases: &Databases,
    size: DataSize,
    scenario: Scenario,
    connections: usize,
    options: &RunOptions,
    next_index: &mut [u64; 3],
) -> anyhow::Result<Vec<Figures>> {
    let rounds = options.rounds.max(1);
    let slice = options.duration / rounds;
    let bounds = Bounds {
        duration: slice,
        // A bound on count as well as time: far above what loopback reaches.
        max_requests: 200_000 * slice.as_secs().max(1),
        connections,
    };
    let authorization = &databases.credentials.operator;
    if scenario == Scenario::Create {
        for (i, server) in servers.iter().enumerate() {
            let sample = drive(
                server.address,
                authorization,
                scenario,
                size,
                next_index[i],
                warm_up(connections),
            )
            .await?;
            next_index[i] = sample.next_index;
        }
    }
    for server in servers {
        server.reset_peak_memory();
    }
    let mut samples = vec![Sample::default(); servers.len()];
    let mut cpu = vec![Duration::ZERO; servers.len()];
    let mut peak_anonymous = vec![0_u64; servers.len()];
    for round in 0..rounds as usize {
        for turn in 0..servers.len() {
            let i = (turn + round) % servers.len();
            let server = servers[i];
            let cpu_before = server.cpu_time()?;
            let (sample, anonymous) = sampling_anonymous_memory(
                server,
                drive(
                    server.address,
                    authorization,
                    scenario,
                    size,
                    next_index[i],
                    bounds,
                ),
            )
            .await;
            peak_anonymous[i] = peak_anonymous[i].max(anonymous);
            let sample = sample.with_context(|| {
                format!(
                    "{} on {} at {connections} connections",
                    scenario.name(),
                    server.implementation.name()
                )
            })?;
            next_index[i] = sample.next_index;
            cpu[i] += server.cpu_time()?.saturating_sub(cpu_before);
            samples[i].merge(sample);
        }
    }
    servers
        .iter()
        .enumerate()
        .map(|(i, server)| {
            Ok(Figures::new(
                &samples[i],
                server.memory()?,
                peak_anonymous[i],
                cpu[i],
            ))
        })
        .collect()
}

/// Runs `work` while sampling `server`'s anonymous memory every 10 ms (the
/// kernel keeps a peak of the whole resident set only), and returns its output
/// with the largest sample.
async fn sampling_anonymous_memory<F: std::future::Future>(
    server: &ServerProcess,
    work: F,
) -> (F::Output, u64) {
    let sample = || server.memory().map_or(0, |memory| memory.anonymous_kib);
    let mut peak = sample();
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    tokio::pin!(work);
    loop {
        tokio::select! {
            output = &mut work => return (output, peak.max(sample())),
            _ = ticks.tick() => peak = peak.max(sample()),
        }
    }
}

/// Requests per scenario in the smoke run.
const SMOKE_REQUESTS: u64 = 6;

/// The smoke run: tiny data, a few requests per scenario, and a check that both
/// servers answer every request with the same status and the same JSON, that no
/// upcoming-payments answer is empty, and that the creates left the same change
/// records in both databases; then that the log-free baseline answers the
/// same creates alike and leaves no change record. Nothing is timed.
///
/// # Errors
///
/// When anything fails or the servers' answers or change logs differ; the error
/// lists every difference.
pub async fn smoke(executables: Executables<'_>, engine: Engine) -> anyhow::Result<()> {
    let size = DataSize::SMOKE;
    let databases = Databases::create(
        engine,
        size,
        &benchmark_grants(),
        Baselines::SameWorkAndLogFree,
    )
    .await?;
    let result = smoke_with(executables, &databases, size).await;
    databases.remove().await;
    result
}

async fn smoke_with(
    executables: Executables<'_>,
    databases: &Databases,
    size: DataSize,
) -> anyhow::Result<()> {
    let (fw, baseline) = executables
        .start(&databases.fw_url, &databases.baseline_url)
        .await?;
    let operator = Some(databases.credentials.operator.as_str());
    let mut fw_connection = Connection::open(fw.address, operator).await?;
    let mut baseline_connection = Connection::open(baseline.address, operator).await?;
    let mut differences = credential_differences(&fw, &baseline, databases, size).await?;
    let mut fw_creates = Vec::new();
    for scenario in Scenario::ALL {
        for index in 0..SMOKE_REQUESTS {
            let request = scenario.request(size, index);
            let fw_response = fw_connection.send(&request).await?;
            let baseline_response = baseline_connection.send(&request).await?;
            let writes = scenario == Scenario::Create;
            let fw_answer = comparable(fw_response.status, &fw_response.body, writes)?;
            let baseline_answer =
                comparable(baseline_response.status, &baseline_response.body, writes)?;
            if writes {
                fw_creates.push((request.clone(), fw_answer.clone()));
            }
            // Follow the `next` link once, so pagination is compared too.
            if let Some(next) = fw_answer.1.get("next").and_then(|next| next.as_str())
                && index == 1
            {
                let request = crate::client::Request::get(next);
                let fw_next = fw_connection.send(&request).await?;
                let baseline_next = baseline_connection.send(&request).await?;
                let fw_next = comparable(fw_next.status, &fw_next.body, false)?;
                let baseline_next = comparable(baseline_next.status, &baseline_next.body, false)?;
                if fw_next != baseline_next || fw_next.0 != 200 {
                    differences.push(format!(
                        "GET {next}:\n  fw       {} {}\n  baseline {} {}",
                        fw_next.0, fw_next.1, baseline_next.0, baseline_next.1
                    ));
                }
            }
            // An empty answer would compare equal and measure little.
            let empty_upcoming = scenario == Scenario::Upcoming
                && fw_answer.1["payments"]
                    .as_array()
                    .is_none_or(|payments| payments.is_empty());
            if fw_response.status != scenario.expected_status()
                || fw_answer != baseline_answer
                || empty_upcoming
            {
                differences.push(format!(
                    "{} {}:\n  fw       {} {}\n  baseline {} {}",
                    request.method,
                    request.path,
                    fw_answer.0,
                    fw_answer.1,
                    baseline_answer.0,
                    baseline_answer.1
                ));
            }
        }
    }
    let fw_changes = comparable_changes(&databases.fw_url).await?;
    let baseline_changes = comparable_changes(&databases.baseline_url).await?;
    if fw_changes.len() != SMOKE_REQUESTS as usize || fw_changes != baseline_changes {
        differences.push(format!(
            "the change logs after {SMOKE_REQUESTS} creates:\n  fw       {}\n  baseline {}",
            serde_json::Value::Array(fw_changes),
            serde_json::Value::Array(baseline_changes)
        ));
    }
    let log_free_url = databases
        .log_free_url
        .as_deref()
        .context("the smoke run's databases include the log-free baseline's")?;
    let log_free = executables
        .start_one(Implementation::LogFree, log_free_url)
        .await?;
    differences.extend(log_free_differences(&log_free, log_free_url, operator, &fw_creates).await?);
    if !differences.is_empty() {
        fw.stop().await;
        baseline.stop().await;
        log_free.stop().await;
        bail!(
            "fw and the baseline answered {} request(s) differently (or not with {}):\n{}",
            differences.len(),
            "the scenario's success status",
            differences.join("\n")
        );
    }
    // The load loop itself, briefly, on each server: on the log-free
    // baseline, the create alone.
    let bounds = Bounds {
        duration: Duration::from_secs(5),
        max_requests: 10,
        connections: 2,
    };
    for server in [&fw, &baseline, &log_free] {
        let scenarios: &[Scenario] = if server.implementation == Implementation::LogFree {
            &[Scenario::Create]
        } else {
            &Scenario::ALL
        };
        for &scenario in scenarios {
            drive(
                server.address,
                &databases.credentials.operator,
                scenario,
                size,
                1000,
                bounds,
            )
            .await
            .with_context(|| {
                format!(
                    "load loop: {} on {}",
                    scenario.name(),
                    server.implementation.name()
                )
            })?;
        }
        server.memory()?;
    }
    fw.stop().await;
    baseline.stop().await;
    log_free.stop().await;
    Ok(())
}

/// Sends `creates`, each with the answer fw gave it, to the log-free
/// baseline as `authorization`: its answers must be fw's, and its database at
/// `url` must hold no change record after them, logged or pending. Returns
/// how it differs.
async fn log_free_differences(
    log_free: &ServerProcess,
    url: &str,
    authorization: Option<&str>,
    creates: &[(crate::client::Request, (u16, serde_json::Value))],
) -> anyhow::Result<Vec<String>> {
    let mut differences = Vec::new();
    let mut connection = Connection::open(log_free.address, authorization).await?;
    for (request, fw_answer) in creates {
        let response = connection.send(request).await?;
        let answer = comparable(response.status, &response.body, true)?;
        if answer != *fw_answer {
            differences.push(format!(
                "{} {} on the log-free baseline:\n  fw       {} {}\n  log-free {} {}",
                request.method, request.path, fw_answer.0, fw_answer.1, answer.0, answer.1
            ));
        }
    }
    let db = fw::Db::connect(url).await?;
    let records = fw::sql(
        "SELECT (SELECT count(*) FROM fw_changes) + (SELECT count(*) FROM fw_changes_pending)",
    )
    .fetch_one(&db, |row| row.get::<i64>(0))
    .await;
    db.close().await;
    let records = records?;
    if records != 0 {
        differences.push(format!(
            "the log-free baseline wrote {records} change record(s) for {} creates",
            creates.len()
        ));
    }
    Ok(differences)
}

/// A token of fw's form that no database holds.
const UNKNOWN_TOKEN: &str = "Bearer fw_0000000000000000000000000000000000000000000";

/// Requests that authentication refuses or lets through, each sent to both
/// servers on a connection of its own: without credentials, with a malformed
/// and an unknown token (401 with a challenge), and as a user who may view
/// dividends only (403 for what else the scenarios do). Returns how the
/// answers differ: status, challenge or JSON, or a status other than expected.
async fn credential_differences(
    fw: &ServerProcess,
    baseline: &ServerProcess,
    databases: &Databases,
    size: DataSize,
) -> anyhow::Result<Vec<String>> {
    let reader = databases.credentials.reader.as_str();
    let cases = [
        ("no credentials", None, Scenario::Retrieve, 401),
        (
            "a malformed token",
            Some("Bearer fw_short"),
            Scenario::Retrieve,
            401,
        ),
        ("an unknown token", Some(UNKNOWN_TOKEN), Scenario::List, 401),
        ("the reader's token", Some(reader), Scenario::Retrieve, 200),
        ("the reader's token", Some(reader), Scenario::Upcoming, 403),
        ("the reader's token", Some(reader), Scenario::Create, 403),
    ];
    let mut differences = Vec::new();
    for (credential, authorization, scenario, expected) in cases {
        let request = scenario.request(size, 0);
        let mut answers = Vec::new();
        for server in [fw, baseline] {
            let response = Connection::open(server.address, authorization)
                .await?
                .send(&request)
                .await?;
            let (status, json) = comparable(response.status, &response.body, false)?;
            answers.push((status, response.challenge, json));
        }
        if answers[0] != answers[1] || answers[0].0 != expected {
            differences.push(format!(
                "{} {} with {credential}, expected {expected}:\n  fw       {:?}\n  baseline {:?}",
                request.method, request.path, answers[0], answers[1]
            ));
        }
    }
    Ok(differences)
}

/// The change log of the database at `url`, read through fw, as compared: the
/// time of each change and the request id (a new one per request on either
/// server) are masked, and so are the row's own instants.
async fn comparable_changes(url: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let db = fw::Db::connect(url).await?;
    let changes = fw::changes::after(0).fetch(&db).await;
    db.close().await;
    changes?
        .iter()
        .map(|change| {
            let mut json = serde_json::to_value(change)?;
            for masked in ["at", "request_id"] {
                if json[masked].is_string() {
                    json[masked] = serde_json::Value::String(format!("<{masked}>"));
                }
            }
            for field in json["fields"].as_array_mut().into_iter().flatten() {
                let instant = field["field"] == "created_at" || field["field"] == "updated_at";
                if instant && field["new"].is_string() {
                    field["new"] = serde_json::Value::String("<instant>".to_owned());
                }
            }
            Ok(json)
        })
        .collect()
}

/// A response as compared: its status and its JSON. For a write, the instants it
/// records (`created_at`, `updated_at`) are masked, since the two servers write
/// them at different moments.
fn comparable(status: u16, body: &[u8], write: bool) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut json: serde_json::Value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body)
            .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(body)))?
    };
    if write {
        mask_write_instants(&mut json);
    }
    Ok((status, json))
}

fn mask_write_instants(json: &mut serde_json::Value) {
    match json {
        serde_json::Value::Object(object) => {
            for (name, value) in object.iter_mut() {
                let is_instant = value
                    .as_str()
                    .is_some_and(|text| chrono::DateTime::parse_from_rfc3339(text).is_ok());
                if (name == "created_at" || name == "updated_at") && is_instant {
                    *value = serde_json::Value::String("<instant>".to_owned());
                } else {
                    mask_write_instants(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_write_instants),
        _ => {}
    }
}

/// The benchmark users' permissions: every scenario's for the operator, the
/// retrieve's alone for the smoke run's reader.
fn benchmark_grants() -> Grants {
    Grants {
        operator: Scenario::permissions(),
        reader: vec![Scenario::Retrieve.permission()],
    }
}
