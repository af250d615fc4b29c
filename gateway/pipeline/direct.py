"""The direct lane: a route's common case answered from callbacks, without a task or a coroutine.

A request without a body, on a route whose plugins all passed their fast steps at once (fast.py), is
sent upstream by `RoutePipeline.begin` on an idle kept-alive connection; its answer's head resolves a
future whose callback, `DirectExchange._answered`, writes the answer (head and whole body in one write)
and runs what the task path runs after it: the log steps, metrics and usage hooks. Per request, that
spares the task, about ten coroutine frames and their resumptions: the share of the gateway's Python
the raw-protocol yardstick (loadtests/rawforwarder.py) showed it paying above the floor.

Everything else keeps the task path (entry.py, route.py), entered where the lane stops, so each case
is handled by the code that always handled it:

    a step that declines, or returns an awaitable  `run` from that step, with its result
    that is not a pending future
    a step's future that resolves other than True  `run` from that step, with the future
    a body, a sandbox call, no idle connection,    `run` after the access steps
    an open or half-open breaker
    an answer whose body is still arriving         `stream`, as the request's task (`adopt`)
    the upstream closed the kept-alive connection  `Forward.resend` on a fresh connection
    as the request went (Stale)
    an error nobody expected                       raised again in a task, as if met there

A step whose answer is a pending future (rate-limiting's Redis call, plugins/fast.py) keeps the lane too:
a `WaitingStep` carries the request on from the future's callback (the next steps, then the upstream).

The server treats a `DirectExchange` (or a `WaitingStep`) as the request's task: `cancel()` when the
client leaves drops the upstream connection (or the step's wait) and records a 499, as a cancelled task
does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, NoReturn

from agora.errors import AgoraError
from gateway.engine.http import DirectResponder, Request
from gateway.engine.upstream_connection import Stale
from gateway.engine.upstream_response import UpstreamResponse
from gateway.errors import BadGateway, GatewayTimeout, problem
from gateway.pipeline.context import RequestContext

if TYPE_CHECKING:
    from gateway.pipeline.entry import Pipeline
    from gateway.pipeline.forward import Begun
    from gateway.pipeline.route import RoutePipeline

__all__ = ["DirectExchange", "InLane", "WaitingStep"]


async def raise_again(error: BaseException) -> NoReturn:
    """An error met in the lane, raised again in a task, where the task path would have met it."""
    raise error


class InLane:
    """What a request in the direct lane holds, whatever it waits for: its route's pipeline, the entry
    (for the task path and what runs after the answer), the request, its responder and context."""

    __slots__ = ("ctx", "entry", "finished", "pipeline", "request", "responder")

    def __init__(
        self, pipeline: RoutePipeline, entry: Pipeline, request: Request, responder: DirectResponder,
        ctx: RequestContext,
    ) -> None:  # fmt: skip
        self.pipeline, self.entry = pipeline, entry
        self.request, self.responder, self.ctx = request, responder, ctx
        self.finished = False  # answered, cancelled, or handed on

    def _after(self) -> None:
        """What the task path runs once the answer is sent: log steps, metrics, usage hooks."""
        try:
            self.pipeline.log_fast(self.responder, self.ctx)
        finally:
            pending = self.entry.finish(self.responder, self.ctx)
            if pending is not None:  # an async usage hook (the shipped ones queue, synchronously)
                self.entry.keep(pending)


class DirectExchange(InLane):
    """One request in the direct lane, from its upstream request to the end of its answer."""

    __slots__ = ("begun",)

    def __init__(
        self, pipeline: RoutePipeline, entry: Pipeline, request: Request, responder: DirectResponder,
        ctx: RequestContext, begun: Begun,
    ) -> None:  # fmt: skip
        super().__init__(pipeline, entry, request, responder, ctx)
        self.begun = begun
        begun.waiter.add_done_callback(self._answered)

    # The server's side (gateway/engine/http.py: InFlight).

    def done(self) -> bool:
        return self.finished

    def cancel(self) -> bool:
        """The client left (or the server stops) before the answer's head came: as a cancelled task's
        exchange, the upstream connection is dropped and the request counted as a 499."""
        if self.finished:
            return False
        self.finished = True
        begun = self.begun
        begun.conn.pool.answered(begun.waiter)
        begun.conn.drop()
        if begun.breaker is not None:
            begun.breaker.abandon()
        self.ctx.status = self.ctx.status or 499
        self._after()
        return True

    # The answer's head (or the exchange's failure), one loop iteration after it arrived.

    def _answered(self, waiter: asyncio.Future[UpstreamResponse]) -> None:
        if self.finished:
            return
        self.finished = True
        begun = self.begun
        conn = begun.conn
        conn.pool.answered(waiter)
        try:
            cancelled = waiter.cancelled()
            error = BadGateway("the upstream exchange was cancelled") if cancelled else waiter.exception()
            if error is None:
                self._relay(waiter.result())
                return
            conn.drop()
            if isinstance(error, Stale):  # the keep-alive race: one retry on a fresh connection
                self._adopt(self.pipeline.then_log(self.responder, self.ctx, self._resend()))
                return
            if begun.breaker is not None:
                if isinstance(error, BadGateway | GatewayTimeout):
                    begun.breaker.record(False, time.monotonic())
                else:
                    begun.breaker.abandon()
            if not isinstance(error, AgoraError):
                raise error
            self._problem(error)
        except Exception as unexpected:  # answered (or the connection cut) as the task path would
            self._adopt(self.pipeline.then_log(self.responder, self.ctx, raise_again(unexpected)))

    def _relay(self, response: UpstreamResponse) -> None:
        begun, pipeline, responder, ctx = self.begun, self.pipeline, self.responder, self.ctx
        if begun.breaker is not None:
            begun.breaker.record(response.status < 500, time.monotonic())
        forward = pipeline.forward
        assert forward is not None
        try:
            headers = forward.answered(self.request, ctx, response, begun.sent_at)
            pipeline.send_head(responder, ctx, response.status, headers)
            whole = response.whole()
        except BaseException:
            response.close()
            raise
        if whole is None:  # the body is still arriving: it streams in a task, with back-pressure
            self._adopt(pipeline.then_log(responder, ctx, pipeline.stream(responder, response)))
            return
        responder.end(whole)
        self._after()

    def _problem(self, error: AgoraError) -> None:
        """The upstream failed (502, 504): its problem document, as `RoutePipeline.answer` answers it."""
        request, ctx = self.request, self.ctx
        status, headers, body = problem(error, instance=request.path, request_id=ctx.request_id)
        self.pipeline.send_head(self.responder, ctx, status, headers)
        self.responder.end(body)
        self._after()

    async def _resend(self) -> None:
        forward = self.pipeline.forward
        assert forward is not None
        sending = forward.resend(self.request, self.ctx, self.begun)
        await self.pipeline.answer(self.request, self.responder, self.ctx, None, sending)

    def _adopt(self, work: Coroutine[Any, Any, None]) -> None:
        """The rest of the request in a task of its own, guarded as the task path guards its own."""
        self.responder.adopt(self.entry.guard(self.request, self.responder, self.ctx, work))


class WaitingStep(InLane):
    """A request in the direct lane whose fast access step `index` waits for its pending future."""

    __slots__ = ("index", "step", "then")

    def __init__(
        self, pipeline: RoutePipeline, entry: Pipeline, request: Request, responder: DirectResponder,
        ctx: RequestContext, index: int, step: asyncio.Future[bool],
    ) -> None:  # fmt: skip
        super().__init__(pipeline, entry, request, responder, ctx)
        self.index, self.step = index, step
        self.then: DirectExchange | WaitingStep | None = None  # the lane's next in-flight work
        step.add_done_callback(self._stepped)

    def done(self) -> bool:
        then = self.then
        return self.finished if then is None else then.done()

    def cancel(self) -> bool:
        """The client left while the step waited: the wait is cancelled (a Redis reply that comes is
        ignored) and the request counted as a 499, as a cancelled task's."""
        then = self.then
        if then is not None:
            return then.cancel()
        if self.finished:
            return False
        self.finished = True
        self.step.cancel()
        self.ctx.status = self.ctx.status or 499
        self._after()
        return True

    def _stepped(self, step: asyncio.Future[bool]) -> None:
        if self.finished:
            return
        self.finished = True
        pipeline, entry, request, responder, ctx = (
            self.pipeline,
            self.entry,
            self.request,
            self.responder,
            self.ctx,
        )
        if step.cancelled() or step.exception() is not None or step.result() is not True:
            # declined or failed: the task path decides, the future as the step's outcome
            work = pipeline.run(request, responder, ctx, self.index, step)
            responder.adopt(entry.guard(request, responder, ctx, work))
            return
        going = pipeline.go_on(request, responder, ctx, entry, self.index + 1)
        if isinstance(going, DirectExchange | WaitingStep):
            self.then = going
        else:
            responder.adopt(going)
