"""The shapes of the security checks every backend provides (marker `security`): tenant
isolation, missing-tenant rejection and garbage ingest. Each backend's `checks.py` supplies
what is specific (its paths, bodies, answers, the S3 folder an unauthenticated write lands
in); the failure messages say what an attacker, or a mistake, could do with the hole.
Every request goes through the ALB, as an attacker's would."""
from __future__ import annotations

from typing import Callable

from ..http import Exchange
from ..outcome import CheckFailed
from ..probe import NotYetVisible, ProbeContext, Transient, expect_now, hint

ISOLATION_CHECK = "isolation"
NO_TENANT_CHECK = "no-tenant"
GARBAGE = b"\xff\x00lgtm-smoke garbage \xde\xad\xbe\xef\x8f" * 8
NOT_A_DECODER_ANSWER = (401, 403, 404, 405)  # 4xx that never reached the wire-format decoder

QueryAs = Callable[[str], "tuple[Exchange, list]"]  # tenant -> (exchange, this run's items found)


def isolated(ctx: ProbeContext, query_as: QueryAs, unseen: str, what: str, leak: str) -> dict:
    """Read this run's data as its own tenant until visible, then once as another tenant, which
    must see none of it."""

    def own() -> dict:
        ex, mine = query_as(ctx.tenant)
        if not mine:
            raise NotYetVisible(ex, unseen)
        return {}

    ctx.read_back(own, what=f"{what} as its own tenant (before the isolation test)")
    other = ctx.settings.other_tenant
    try:
        ex, leaked = query_as(other)
    except Transient as e:
        expect_now(e.exchange, "isolation")
        raise
    if leaked:
        raise CheckFailed(f"isolation: {ex.method} {ex.path} (tenant {other!r}) → {ex.status} returned tenant "
                          f"{ctx.tenant!r}'s {leak}", [f"response body: {ex.preview()}"])
    return {"own_tenant": ctx.tenant, "other_tenant": other, "other_sees": 0}


def expect_no_org_id(ex: Exchange, backend: str, what: str, folder: str, status: int = 401,
                     accepted: str | None = None) -> dict:
    """`ex` (sent without X-Scope-OrgID) must be `status` 'no org id'. `folder`: where the data
    lands in S3 when the backend runs without auth; `accepted`: the cause when it accepted."""
    if ex.status == status and "no org id" in ex.text.lower():
        return {"request": f"{ex.method} {ex.path}", "status": ex.status, "answer": ex.preview(80)}
    if 200 <= ex.status < 300:
        read = ex.method == "GET"
        cause = accepted or (
            f"{backend} answered {what} without a tenant (multitenancy off) — anyone reads what sits under {folder} "
            "in the S3 bucket, and writes without a tenant land there" if read else
            f"{backend} accepted {what} without a tenant (multitenancy/auth off) — the data lands under {folder} in "
            "the S3 bucket, outside every tenant, and any client that forgets the header writes (and reads) there")
        raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}: {cause}",
                          [f"response body: {ex.preview()}"])
    tries = f" after {ex.attempts} attempts" if ex.attempts > 1 else ""
    raise CheckFailed(f"no tenant: {ex.method} {ex.path} (no X-Scope-OrgID) → {ex.status}{tries}, expected {status} "
                      f"'no org id' from {backend}: {ex.preview(120)}{hint(ex)}", [f"response body: {ex.preview()}"])


def garbage(backend: str, sends: list[tuple[str, Callable[[], Exchange]]], ready: Callable[[], Exchange]) -> dict:
    """Each of `sends` (bytes that are not the wire format) gets a 4xx from the decoder, and
    `ready` answers 200 before and after."""
    before = ready()
    if before.status != 200:
        raise CheckFailed(f"garbage: before any garbage, {before.method} {before.path} → {before.status}, expected "
                          f"200: {before.preview(120)}{hint(before, 'read')} — {backend} is not serving through the ALB")
    answers = {}
    for what, send in sends:
        ex = send()
        answers[what] = ex.status
        if ex.status in NOT_A_DECODER_ANSWER:
            raise CheckFailed(f"garbage: {ex.method} {ex.path} ({ex.who()}) with {what} → {ex.status}: "
                              f"{ex.preview(120)}{hint(ex, 'push')} — the body never reached {backend}'s decoder, "
                              "so this proves nothing about bad input")
        if ex.status >= 500:
            raise CheckFailed(f"garbage: {ex.method} {ex.path} ({ex.who()}) with {what} → {ex.status}, expected 4xx: "
                              f"{ex.preview(120)} — {backend} treats a client's bad input as its own failure: clients "
                              "retry it forever, 5xx alerts fire, and a crafted body may crash it",
                              [f"response body: {ex.preview()}"])
        if not 400 <= ex.status < 500:
            raise CheckFailed(f"garbage: {ex.method} {ex.path} ({ex.who()}) with {what} → {ex.status}, expected 4xx: "
                              f"{ex.preview(120)} — {backend} accepted bytes that are not its wire format",
                              [f"response body: {ex.preview()}"])
    after = ready()
    if after.status != 200:
        raise CheckFailed(f"garbage: after the garbage pushes {after.method} {after.path} → {after.status}, expected "
                          f"200: {after.preview(120)} — {backend} stopped serving after bad input")
    return {"answers": answers, "still_serving": f"{after.method} {after.path} → 200"}
