//! The access check of the API's plain handlers ([`Api::route`](super::Api::route)):
//! a layer on their method router that refuses a caller the route's [`Access`]
//! does not admit before the handler runs. Resource handlers and custom
//! actions check in their own wiring ([`handlers`](super::handlers)).

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready, ready};
use tower::{Layer, Service};

use fw_core::access::Access;

use crate::caller::Caller;

/// Wraps a route in [`RequireAccessService`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequireAccess(pub(crate) Access);

impl<S> Layer<S> for RequireAccess {
    type Service = RequireAccessService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAccessService {
            access: self.0,
            inner,
        }
    }
}

/// A route that answers 401 or 403 itself, without calling `inner`, when the
/// request's [`Caller`] may not run it. A plain service with a plain future
/// rather than `axum::middleware::from_fn`, which boxes both on every request.
#[derive(Debug, Clone)]
pub(crate) struct RequireAccessService<S> {
    access: Access,
    inner: S,
}

impl<S> Service<Request> for RequireAccessService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let anonymous = Caller::Anonymous;
        let caller = request.extensions().get::<Caller>().unwrap_or(&anonymous);
        match caller.require(self.access) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(refused) => Either::Left(ready(Ok(refused.into_response()))),
        }
    }
}
