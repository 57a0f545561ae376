"""The live log of every run: its page, a Server-Sent Events stream and a plain JSON read.

The stream sends each ``RunEvent`` as ``id: <seq>`` + ``data: <json>``, so a browser that
reconnects (EventSource does it by itself) sends ``Last-Event-ID`` and resumes after the
last line it had; a ``state`` event each time the run's counts, progress or status change;
a comment line every 15 s keeps proxies from closing a quiet stream; an ``end`` event says
the run finished. It streams only under ASGI (uvicorn): under WSGI the
whole answer would be buffered, so the page falls back to ``?after=N`` reads (JSON) when the
stream does not open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .error_messages import explain
from .models import RunEvent, SyncRun
from .run_text import counts_sentence

VIEW_RUN = "sync.view_syncrun"
PAGE_LINES = 500
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
# A stream ends after this long; the browser reconnects and resumes from its last id.
STREAM_SECONDS = 600.0
# Kinds a person may stop: their work checks for a stop between pages, SKUs and batches.
STOPPABLE = frozenset(
    {SyncRun.Kind.SKU_SYNC, SyncRun.Kind.PUSH, SyncRun.Kind.POLL, SyncRun.Kind.CATALOG}
)


def _event(row: RunEvent) -> dict:
    return {
        "seq": row.seq,
        "at": timezone.localtime(row.at).isoformat(),  # the page shows the site's time
        "level": row.level,
        "message": row.text,  # in the reader's language
    }


def _after(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _events_after(
    run_id: int, after: int, limit: int = PAGE_LINES, language: str | None = None
) -> list[dict]:
    """The lines after ``after``, in ``language`` (the stream's reader's; else the active)."""
    rows = RunEvent.objects.filter(run_id=run_id, seq__gt=after).order_by("seq")[:limit]
    with translation.override(language or translation.get_language()):
        return [_event(row) for row in rows]


def _state(run: SyncRun) -> dict:
    return {
        "status": run.status,
        "status_text": str(run.get_status_display()),
        "counts": run.counts,
        # The counts in words and the error read for a merchant, in the page's language.
        "counts_text": counts_sentence(run.kind, run.counts),
        "percent": run.percent,
        "finished": run.finished_at is not None,
        "error": run.error,
        "error_text": explain(run.error, store_id=run.store_id).message if run.error else "",
    }


@staff_member_required
@permission_required(VIEW_RUN, raise_exception=True)
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.select_related("store"), pk=run_id)
    events = list(RunEvent.objects.filter(run=run).order_by("-seq")[:PAGE_LINES])[::-1]
    return render(
        request,
        "sync/run.html",
        {
            "title": _("Run %(id)s: %(kind)s of %(store)s")
            % {"id": run.pk, "kind": run.get_kind_display(), "store": run.store_id},
            "run": run,
            "events": events,
            # What the run found, listed: a SKU sync's SKUs whose stock differs in the
            # store, a reconcile's SKUs the store shows otherwise.
            "differ": run.details.get("differ", []) if run.kind == SyncRun.Kind.SKU_SYNC else [],
            "drift": run.details.get("drift", []) if run.kind == SyncRun.Kind.RECONCILE else [],
            "last_seq": events[-1].seq if events else 0,
            "can_stop": run.finished_at is None
            and run.kind in STOPPABLE
            and request.user.has_perm("sync.run_sync"),
        },
    )


@staff_member_required
@permission_required(VIEW_RUN, raise_exception=True)
def run_events(request: HttpRequest, run_id: int) -> JsonResponse:
    """The lines after ``?after=N`` (at most 500) and the run's state: for clients without
    Server-Sent Events."""
    run = get_object_or_404(SyncRun, pk=run_id)
    events = _events_after(run.pk, _after(request.GET.get("after")))
    return JsonResponse({"events": events, **_state(run)})


async def _stream(run_id: int, after: int, language: str) -> AsyncIterator[str]:
    """The stream's body. It runs after the view has returned, so the reader's language
    (the request's) is passed in and set around each read, never taken from the context."""
    started = last_sent = time.monotonic()
    shown: dict | None = None  # the run's state as last sent (the page has the first)
    yield "retry: 2000\n\n"
    while time.monotonic() - started < STREAM_SECONDS:
        events = await sync_to_async(_events_after)(run_id, after, language=language)
        for event in events:
            after = event["seq"]
            yield f"id: {after}\nevent: line\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
            last_sent = time.monotonic()
        if len(events) == PAGE_LINES:
            continue
        run = await SyncRun.objects.aget(pk=run_id)
        if run.finished_at is not None:
            # Lines written just before the end: sent before the end event.
            if not await RunEvent.objects.filter(run_id=run_id, seq__gt=after).aexists():
                with translation.override(language):
                    end = json.dumps(_state(run), ensure_ascii=False)
                yield f"event: end\ndata: {end}\n\n"
                return
            continue
        # The counts, progress and status as they change (the page's bar and words).
        with translation.override(language):
            state = _state(run)
        if shown is None:
            shown = state
        elif state != shown:
            shown = state
            yield f"event: state\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
            last_sent = time.monotonic()
        if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
            yield ": still running\n\n"
            last_sent = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)


@staff_member_required
@permission_required(VIEW_RUN, raise_exception=True)
async def run_stream(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    """Server-Sent Events of a run's log, resumed after ``Last-Event-ID`` (or ``?after=``)."""
    if not await SyncRun.objects.filter(pk=run_id).aexists():
        return HttpResponse(status=404)
    after = _after(request.headers.get("Last-Event-ID") or request.GET.get("after"))
    response = StreamingHttpResponse(
        _stream(run_id, after, translation.get_language()), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
