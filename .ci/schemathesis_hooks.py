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
"""

import uuid

import schemathesis
from schemathesis import GenerationMode


@schemathesis.hook
def before_call(context, case, **kwargs):
    meta = case.meta
    positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
    if not positive:
        return
    if case.query:
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
