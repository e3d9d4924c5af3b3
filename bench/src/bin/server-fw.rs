//! fw's side of the benchmark: the dividends example's `main`, word for word, as
//! a binary of this package so that `cargo bench` builds it (`server-fw serve`).

use std::process::ExitCode;

use example_dividends::app;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    app().run().await
}
