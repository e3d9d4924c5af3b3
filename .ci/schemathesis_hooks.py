"""schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

A list's `cursor` is an opaque token the server issues in a page's `next` and
`previous` links: no schema can say which strings are tokens, so a generated
one is a well-formed but unknown token, which the server rightly refuses (400).
Requests meant to be valid go without it; invalid ones keep it, as it may be
what makes them invalid. The framework's own tests cover cursors, valid, forged
and malformed.
"""

import schemathesis
from schemathesis import GenerationMode


@schemathesis.hook
def before_call(context, case, **kwargs):
    meta = case.meta
    positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
    if positive and case.query:
        case.query.pop("cursor", None)
