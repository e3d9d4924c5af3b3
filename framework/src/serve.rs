//! The HTTP server behind `serve`: hyper's HTTP/1 connections, each bounded in
//! time and size, at most so many at once, drained within a deadline on
//! shutdown. (`axum::serve` has none of these bounds, and a few clients holding
//! half-sent requests could use up every file descriptor.)

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::context::HttpLimits;
use crate::rest::ApiError;

/// The read buffer's size limit when fw's limits do not call for more: hyper's
/// own default, which bounds the buffer a request body is read through too.
const DEFAULT_READ_BUFFER: usize = 8192 + 4096 * 100;

impl HttpLimits {
    /// How hyper serves each connection: the header read timeout, and limits
    /// on a request's head at twice fw's, so that a request somewhat over
    /// fw's limits is still read and refused with a problem (414, 431) naming
    /// the limit; past hyper's, hyper itself answers 431 or 414 with no body
    /// and closes the connection.
    fn connection_builder(&self) -> http1::Builder {
        // A header line's bytes beyond its name and value: `: ` and CRLF.
        const HEADER_LINE_OVERHEAD: usize = 4;
        let head_limit = 2
            * (self.max_uri_length
                + self.max_header_bytes
                + HEADER_LINE_OVERHEAD * self.max_headers);
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_headers(2 * self.max_headers)
            .max_header_size(head_limit)
            .max_buf_size(head_limit.max(DEFAULT_READ_BUFFER));
        builder
    }

    /// The refusal a request's head earns before it is routed, if any.
    fn check_head(&self, request: &Request<Incoming>) -> Result<(), ApiError> {
        let target_length = request
            .uri()
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if target_length > self.max_uri_length {
            return Err(ApiError::UriTooLong {
                limit: self.max_uri_length,
            });
        }
        let headers = request.headers();
        if headers.len() > self.max_headers {
            return Err(ApiError::TooManyHeaders {
                limit: self.max_headers,
            });
        }
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if header_bytes > self.max_header_bytes {
            return Err(ApiError::HeadersTooLarge {
                limit: self.max_header_bytes,
            });
        }
        Ok(())
    }
}

/// Serves `service` on `listener` within `limits` until `shutdown` resolves,
/// then drains: no new connections, requests in flight finish, and whatever
/// is still open after the drain timeout is closed.
pub(crate) async fn serve<S>(
    listener: TcpListener,
    service: S,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let builder = limits.connection_builder();
    let open_connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut listener = listener;
    tokio::pin!(shutdown);
    loop {
        // At the cap, stop accepting: a client that connects waits in the
        // listen queue, costing this process no file descriptor.
        let permit = tokio::select! {
            permit = open_connections.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        // axum's `accept` retries on errors, pausing when out of descriptors.
        let (stream, peer) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        // Responses are written whole; waiting to coalesce them only adds latency.
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |request| {
                answer(service.clone(), limits, peer, request)
            }),
        );
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            // A client that went away, or stalled or idled past the header
            // read timeout (hyper does not tell the two apart): routine.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
            drop(permit);
        });
    }
    // Closing the listener makes the system refuse new connections at once.
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            drain_timeout = ?limits.drain_timeout,
            "closing the connections still open after the drain timeout"
        );
    }
    connections.shutdown().await;
}

/// One request: refused if its head is over the limits, else routed and
/// answered within the request timeout.
async fn answer<S>(
    service: S,
    limits: HttpLimits,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response, Infallible>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    if let Err(refusal) = limits.check_head(&request) {
        return Ok(closing(refusal));
    }
    let method = request.method().clone();
    let uri = request.uri().clone();
    let mut request = request.map(axum::body::Body::new);
    // The client's address, as axum's `ConnectInfo`: login throttling counts
    // failures per address.
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    // Bounds the time to the response's head only: a streamed body, such as
    // the change log's live tail, is not cut.
    match tokio::time::timeout(limits.request_timeout, service.oneshot(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::info!(
                %method,
                path = uri.path(),
                request_timeout = ?limits.request_timeout,
                "request timed out"
            );
            Ok(closing(ApiError::RequestTimeout {
                limit: limits.request_timeout,
            }))
        }
    }
}

/// `refusal`'s response, closing the connection: the rest of the request
/// (a body not read, or not yet sent) would otherwise be read as the next one.
fn closing(refusal: ApiError) -> Response {
    let mut response = refusal.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};

    use axum::extract::ConnectInfo;

    use super::*;

    /// Handlers read the client's address as axum's `ConnectInfo`, which
    /// login throttling counts failures by.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn handlers_see_the_client_s_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peer.ip().to_string()
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, HttpLimits::default(), async {
            let _ = stopped.await;
        }));
        let response = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(address).unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            response
        })
        .await
        .unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("\r\n\r\n127.0.0.1"), "{response}");
        stop.send(()).unwrap();
        server.await.unwrap();
    }
}
