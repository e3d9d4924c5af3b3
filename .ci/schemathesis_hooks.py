"""schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

Two parameters carry meaning no schema can state, so requests meant to be
valid get values a real client would send; invalid ones keep what was
generated, as it may be what makes them invalid. The framework's own tests
cover both parameters, valid, forged and malformed.

- A list's `cursor` is an opaque token the server issues in a page's `next`
  and `previous` links: a generated one is a well-formed but unknown token,
  which the server rightly refuses (400). Valid requests go without it.
- An `Idempotency-Key` names one request: the same key sent again with a
  different request is rightly refused (422). Generated keys repeat across
  requests (`0`, `A`), so each valid request gets a fresh key, as a client
  makes one per request.

The authenticated pass sends one API token with every request
(`FW_ST_TOKEN_ID` is its id): `DELETE /auth/tokens/{id}` with a generated id
would sooner or later revoke it, and every request after would be a 401, so
that id is never sent; every other token the run makes may be revoked.

The anonymous pass (`FW_ST_ANONYMOUS=1`) adds the check
`anonymous_requests_get_401`: an operation whose document requires
credentials (a non-empty `security`) answers a request without them with a
401, whatever else is wrong with the request. The only exceptions are the
server's limits on the request line and headers (414, 431), which it checks
before it reads any credentials, let alone the route: a refusal that says
nothing about the operation or its data.
"""

import os
import uuid

import schemathesis
from schemathesis import GenerationMode

TOKEN_ID = os.environ.get("FW_ST_TOKEN_ID")

# URI Too Long and Request Header Fields Too Large: the server's limits on
# the request line and headers, checked before authentication.
REFUSED_BEFORE_AUTHENTICATION = (414, 431)


@schemathesis.hook
def before_call(context, case, **kwargs):
    if (
        TOKEN_ID is not None
        and case.operation.method.upper() == "DELETE"
        and case.operation.path == "/auth/tokens/{id}"
        and str((case.path_parameters or {}).get("id")) == TOKEN_ID
    ):
        # Another token's id, one the run has not made: a 404.
        case.path_parameters["id"] = int(TOKEN_ID) + 1_000_000
    meta = case.meta
    positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
    if not positive:
        return
    if case.query:
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


if os.environ.get("FW_ST_ANONYMOUS") == "1":

    @schemathesis.check
    def anonymous_requests_get_401(ctx, response, case):
        """A request without credentials to an operation that requires them is a 401."""
        security = case.operation.definition.raw.get("security")
        if security is None:
            security = case.operation.schema.raw_schema.get("security")
        if not security:
            return None
        if response.status_code not in (401, *REFUSED_BEFORE_AUTHENTICATION):
            raise AssertionError(
                f"{case.operation.label} requires credentials, but a request without "
                f"them was answered {response.status_code}, not 401"
            )
        return None
