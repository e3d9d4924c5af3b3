//! [`ResolveClient`]: the layer that puts each request's
//! [`ClientAddr`] in its extensions, as [`TrustedProxies`] resolve it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use tower::Service;

use crate::client::{ClientAddr, TrustedProxies};

/// Resolves each request's [`ClientAddr`] from axum's `ConnectInfo` (which
/// `serve` inserts) and the trusted proxies' header. A plain tower service
/// that adds nothing to the inner future.
#[derive(Debug, Clone)]
pub(crate) struct ResolveClient<S> {
    inner: S,
    proxies: Arc<TrustedProxies>,
}

impl<S> ResolveClient<S> {
    pub(crate) fn new(inner: S, proxies: TrustedProxies) -> ResolveClient<S> {
        ResolveClient {
            inner,
            proxies: Arc::new(proxies),
        }
    }
}

impl<S: Service<Request>> Service<Request> for ResolveClient<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> S::Future {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        if let Some(peer) = peer {
            let client = self.proxies.client(peer, request.headers());
            request.extensions_mut().insert(ClientAddr(client));
        }
        self.inner.call(request)
    }
}
