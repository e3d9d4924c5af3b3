//! The baseline's server: `server-baseline serve` serves the hand-written
//! endpoints over `DATABASE_URL` on `FW_LISTEN`, as fw's server is configured;
//! `server-baseline serve --log-free` serves them with creates that write no
//! change record (the log-free baseline).

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use fw_bench::baseline::ChangeLog;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let change_log = match arguments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve"] => ChangeLog::Written,
        ["serve", "--log-free"] => ChangeLog::Off,
        _ => anyhow::bail!(
            "usage: server-baseline serve [--log-free] (with DATABASE_URL and FW_LISTEN set)"
        ),
    };
    let url = std::env::var("DATABASE_URL").context("set DATABASE_URL")?;
    let listen: SocketAddr = std::env::var("FW_LISTEN")
        .context("set FW_LISTEN")?
        .parse()
        .context("FW_LISTEN is not an address")?;
    fw_bench::baseline::serve(&url, listen, change_log).await
}
