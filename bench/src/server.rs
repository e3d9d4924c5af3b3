//! Each server runs in a child process of its own, from an executable of its own
//! (`server-fw serve`, `server-baseline serve`, and for the log-free baseline
//! `server-baseline serve --log-free`), so its memory can be read from
//! `/proc/<pid>/status` without the other servers or the load generator in the
//! figure.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// The dividends example, served by fw exactly as its binary serves it.
    Fw,
    /// The hand-written axum + sqlx baseline, whose creates write the same
    /// change records as fw's.
    Baseline,
    /// The same baseline with its creates writing no change record.
    LogFree,
}

impl Implementation {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Fw => "fw",
            Implementation::Baseline => "baseline",
            Implementation::LogFree => "log-free",
        }
    }

    /// The arguments of its executable.
    fn arguments(self) -> &'static [&'static str] {
        match self {
            Implementation::Fw | Implementation::Baseline => &["serve"],
            Implementation::LogFree => &["serve", "--log-free"],
        }
    }
}

/// The two servers' executables: `server-fw` and `server-baseline`, this
/// package's binaries, which `cargo bench` and `cargo test` build and name in
/// `CARGO_BIN_EXE_server-fw` and `CARGO_BIN_EXE_server-baseline`.
///
/// Each server is an executable of its own, as each would be deployed: a process
/// counts the pages of its executable it has touched in its resident memory, and
/// in one executable holding both servers each would count pages of the other's
/// code that share a page or a read-ahead window with its own.
#[derive(Debug, Clone, Copy)]
pub struct Executables<'a> {
    /// fw's server: the example's `main`.
    pub fw: &'a Path,
    /// The baseline's server, the same-work and the log-free one.
    pub baseline: &'a Path,
}

impl Executables<'_> {
    /// Starts both servers, fw's first.
    ///
    /// # Errors
    ///
    /// When either does not start; see [`ServerProcess::start`].
    pub async fn start(
        &self,
        fw_database_url: &str,
        baseline_database_url: &str,
    ) -> anyhow::Result<(ServerProcess, ServerProcess)> {
        let fw = self.start_one(Implementation::Fw, fw_database_url).await?;
        let baseline = self
            .start_one(Implementation::Baseline, baseline_database_url)
            .await?;
        Ok((fw, baseline))
    }

    /// Starts `implementation`'s server over `database_url`.
    ///
    /// # Errors
    ///
    /// When it does not start; see [`ServerProcess::start`].
    pub async fn start_one(
        &self,
        implementation: Implementation,
        database_url: &str,
    ) -> anyhow::Result<ServerProcess> {
        let executable = match implementation {
            Implementation::Fw => self.fw,
            Implementation::Baseline | Implementation::LogFree => self.baseline,
        };
        ServerProcess::start(executable, implementation, database_url).await
    }
}

/// A server running in a child process.
#[derive(Debug)]
pub struct ServerProcess {
    /// Which server it is.
    pub implementation: Implementation,
    /// Where it listens.
    pub address: SocketAddr,
    child: Child,
}

impl ServerProcess {
    /// Starts `executable` with `implementation`'s arguments (`serve`, and
    /// `--log-free` for the log-free baseline) on a free loopback port over
    /// `database_url`, and waits until it accepts connections.
    ///
    /// # Errors
    ///
    /// When the process cannot start or does not listen within 60 seconds.
    pub async fn start(
        executable: &Path,
        implementation: Implementation,
        database_url: &str,
    ) -> anyhow::Result<ServerProcess> {
        let address = free_port()?;
        let child = Command::new(executable)
            .args(implementation.arguments())
            .env("DATABASE_URL", database_url)
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LISTEN", address.to_string())
            // Both servers log as they would in production: the access log
            // at its default level, one JSON line per request, written (to
            // /dev/null) like any other output.
            .env("FW_LOG", "info")
            .env("FW_LOG_FORMAT", "json")
            // The load is one client sending as fast as it can: fw's rate
            // limits would refuse most of it. The baseline has none.
            .env("FW_RATE_LIMIT", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", executable.display()))?;
        let mut server = ServerProcess {
            implementation,
            address,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the {} server exited with {status} (its log is not kept: run `{} {}` \
                     with the same environment to see why)",
                    implementation.name(),
                    executable.display(),
                    implementation.arguments().join(" ")
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the {} server did not listen within 60 s",
                    implementation.name()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Peak and current resident memory of the process, in KiB (`VmHWM`, `VmRSS`).
    ///
    /// # Errors
    ///
    /// When `/proc` cannot be read (not Linux, or the process is gone).
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Ok(Memory {
            peak_kib: field("VmHWM:"),
            current_kib: field("VmRSS:"),
            anonymous_kib: field("RssAnon:"),
        })
    }

    /// CPU time (user + system) the process has used so far.
    ///
    /// # Errors
    ///
    /// When `/proc` cannot be read.
    pub fn cpu_time(&self) -> anyhow::Result<std::time::Duration> {
        let pid = self.child.id().context("the server has exited")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may contain spaces) in parentheses.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks =
            |index: usize| -> u64 { fields.get(index).and_then(|f| f.parse().ok()).unwrap_or(0) };
        // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 Hz
        // on Linux); here they are 11 and 12 after the name.
        let total_ticks = ticks(11) + ticks(12);
        Ok(std::time::Duration::from_millis(total_ticks * 10))
    }

    /// Resets the peak (`VmHWM`) to the current resident size, so the next reading
    /// is the peak of what runs in between. Best effort: older kernels lack it.
    pub fn reset_peak_memory(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A memory reading of a server process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Peak resident set since start or the last reset, KiB.
    pub peak_kib: u64,
    /// Current resident set, KiB.
    pub current_kib: u64,
    /// The current resident set's anonymous part (heap, stacks), KiB: the
    /// process's own memory, without the pages of the executable and shared
    /// libraries it has touched.
    pub anonymous_kib: u64,
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}
