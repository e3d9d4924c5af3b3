//! The outermost layer: every request's id, made here when the client sent
//! none (see [`changes`](crate::changes#who-made-a-change)).
//!
//! A plain tower service, as the layers inside it are: nothing is boxed per
//! request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;
use tower::Service;

use crate::changes::REQUEST_ID;

/// The longest `x-request-id` kept as sent; a longer one is replaced.
const MAX_REQUEST_ID: usize = 200;

/// Gives every request an id, echoed on its response: the client's
/// `x-request-id` when it is 1 to [`MAX_REQUEST_ID`] visible ASCII
/// characters, else a new UUIDv7 put on the request in its place, where the
/// change log's request scope reads it.
#[derive(Debug, Clone)]
pub(crate) struct Observe<S> {
    inner: S,
}

impl<S> Observe<S> {
    pub(crate) fn new(inner: S) -> Observe<S> {
        Observe { inner }
    }
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let request_id = match request.headers().get(&REQUEST_ID) {
            Some(sent) if is_request_id(sent) => sent.clone(),
            _ => {
                let made = new_request_id();
                request
                    .headers_mut()
                    .insert(REQUEST_ID.clone(), made.clone());
                made
            }
        };
        ObserveFuture {
            inner: self.inner.call(request),
            request_id: Some(request_id),
        }
    }
}

/// Whether `sent` is kept as the request's id.
fn is_request_id(sent: &HeaderValue) -> bool {
    !sent.is_empty() && sent.len() <= MAX_REQUEST_ID && sent.to_str().is_ok()
}

/// A new request id: a UUIDv7, so ids sort by time.
fn new_request_id() -> HeaderValue {
    let mut text = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut text);
    // A UUID's text is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

pin_project_lite::pin_project! {
    /// The response of [`Observe`]: the inner one, with the request id.
    pub(crate) struct ObserveFuture<F> {
        #[pin]
        inner: F,
        request_id: Option<HeaderValue>,
    }
}

impl<F, E> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(request_id) = this.request_id.take() {
            response
                .headers_mut()
                .insert(REQUEST_ID.clone(), request_id);
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's id is kept when it is 1 to 200 visible ASCII characters;
    /// a made one is a UUIDv7.
    #[test]
    fn request_ids_are_kept_or_made() {
        for kept in ["req-1", "a b", &"r".repeat(MAX_REQUEST_ID)] {
            assert!(
                is_request_id(&HeaderValue::from_str(kept).unwrap()),
                "{kept}"
            );
        }
        let too_long = "r".repeat(MAX_REQUEST_ID + 1);
        for replaced in [
            HeaderValue::from_static(""),
            HeaderValue::from_str(&too_long).unwrap(),
            HeaderValue::from_bytes("é".as_bytes()).unwrap(),
        ] {
            assert!(!is_request_id(&replaced), "{replaced:?}");
        }
        let made = new_request_id();
        let made = uuid::Uuid::parse_str(made.to_str().unwrap()).unwrap();
        assert_eq!(made.get_version_num(), 7);
    }
}
